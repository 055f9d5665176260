/**
 * Valkey and Sentinel configuration: the token store on the gate, the message store on the engines
 * (and its never-promoted replica on the gate), and Sentinel on all three nodes.
 *
 * Compatibility: Ubuntu 24.04 ships Valkey 7.2 (noble-updates/universe); the lab and CI run Valkey
 * 8.0 (Debian bookworm-backports). Every directive below exists with the same meaning in both:
 * `bind`, `port`, `bind-source-addr` (Redis 7.0), `protected-mode`, `requirepass`, `masterauth`, `replica-announce-ip`, `replicaof`,
 * `appendonly`, `appendfsync`, `maxmemory`, `maxmemory-policy`, `dir`, `pidfile`, `logfile`,
 * `min-replicas-to-write`, `min-replicas-max-lag`, `replica-priority`, `save`, `dbfilename`,
 * `rdb-del-sync-files` (Redis 6.0), and in
 * Sentinel `sentinel monitor|down-after-milliseconds|failover-timeout|auth-pass|announce-ip|
 * announce-port|sentinel-pass|resolve-hostnames|parallel-syncs`. Nothing added in 8.0 (such as
 * `availability-zone`) is rendered; tests/render starts 8.0 on these files, and every directive is
 * one Redis 7.2 already had, which Valkey 7.2 inherits. Both keep the AOF under `appenddirname`
 * (default `appendonlydir`), so a data directory moves between the two unchanged. The packaged
 * units differ only outside these files (pid directories), and the files use the units' own paths.
 *
 * Sentinel's file is rendered once (cloud-init writes it at first boot) and then belongs to
 * Sentinel, which rewrites it with what it learns (replicas, other Sentinels, epochs). Its lines are
 * rendered in a fixed order because `sentinel auth-pass` and friends must follow `sentinel monitor`.
 *
 * `bind-source-addr` (message Valkey and Sentinel: the token Valkey opens no connection) is the
 * node's private address, so replication and Sentinel connections leave
 * from the address the peers' firewall rules name; in the lab (one host, one address per node) it is
 * what lets `npm run lab -- partition <node>` cut one node's traffic (lab/partition.ts).
 */
import { BOOTSTRAP_MESSAGE_MASTER, Layout, NodeName, bindAddresses, nodePath, tokenNode } from "./layout";
import { TOKEN_DATA_DIR } from "./token-volume";

/** Data, pid and log paths of the packaged units (Debian/Ubuntu `valkey-server`, `valkey-sentinel`). */
export function valkeyPaths(
  layout: Layout,
  node: NodeName,
): {
  config: string;
  sentinelConfig: string;
  dataDir: string;
  tokenDataDir: string;
  logDir: string;
  pidfile: string;
  sentinelPidfile: string;
  logfile: string;
  sentinelLogfile: string;
  replicaConfig: string;
  replicaPidfile: string;
  replicaLogfile: string;
} {
  const p = (abs: string): string => nodePath(layout, node, abs);
  return {
    config: p("/etc/valkey/valkey.conf"),
    sentinelConfig: p("/etc/valkey/sentinel.conf"),
    dataDir: p("/var/lib/valkey"),
    /** The token Valkey's `dir`: on the token volume (cloud-init/token-volume.ts). */
    tokenDataDir: p(TOKEN_DATA_DIR),
    logDir: p("/var/log/valkey"),
    pidfile: p("/run/valkey/valkey-server.pid"),
    sentinelPidfile: p("/run/sentinel/valkey-sentinel.pid"),
    logfile: p("/var/log/valkey/valkey-server.log"),
    sentinelLogfile: p("/var/log/valkey/valkey-sentinel.log"),
    /** The message replica: the packaged template unit `valkey-server@replica` reads `valkey-%i.conf`. */
    replicaConfig: p(`/etc/valkey/valkey-${MESSAGE_REPLICA_INSTANCE}.conf`),
    replicaPidfile: p(`/run/valkey-${MESSAGE_REPLICA_INSTANCE}/valkey-server.pid`),
    replicaLogfile: p(`/var/log/valkey/valkey-server-${MESSAGE_REPLICA_INSTANCE}.log`),
  };
}

/**
 * The instance name of the message replica's unit: `valkey-server@replica.service`, the packaged
 * template unit (Debian 12 and Ubuntu 24.04), which runs `valkey-server /etc/valkey/valkey-%i.conf`
 * with the packaged unit's sandbox (its data in /var/lib/valkey, its pid in /run/valkey-%i).
 */
export const MESSAGE_REPLICA_INSTANCE = "replica";
export const MESSAGE_REPLICA_UNIT = `valkey-server@${MESSAGE_REPLICA_INSTANCE}`;

/**
 * The message store's write guard, on both engines (either can be master): a master that has heard
 * from fewer than `minReplicasToWrite` replicas within `minReplicasMaxLagSeconds` refuses writes with
 * NOREPLICAS. Replicas acknowledge once a second and Valkey counts whole seconds, so an isolated or
 * frozen master stops acknowledging writes 2 to 3 s after its last replica heard from it: that is
 * the loss window of a client without WAIT (docs/valkey.md, "Failures: the durability model"). It
 * needs the gate's never-promoted replica: with two data nodes a master whose only replica is down
 * would refuse every write, and no failover would follow.
 */
export const MESSAGE_WRITE_GUARD = { minReplicasToWrite: 1, minReplicasMaxLagSeconds: 2 } as const;

/**
 * The ACL users and their rights (docs/valkey.md, "Users and rights"). `default` is off everywhere.
 * The apps' rights: data commands only; the later `-@admin -@dangerous` takes back what the earlier
 * categories would allow (FLUSHALL, SHUTDOWN, REPLICAOF, CONFIG, ACL, MODULE, DEBUG, KEYS, INFO,
 * CLIENT KILL/PAUSE, ...). `+wait` is named so the WAIT contract survives a change of categories.
 * Replication and Sentinel get what the Valkey and Sentinel documentation lists for them.
 */
export const ACL_RIGHTS = {
  app: "resetkeys ~* resetchannels &* -@all +@read +@write +@transaction +@pubsub +@connection -@admin -@dangerous +wait",
  admin: "~* &* +@all",
  replication: "resetkeys resetchannels -@all +psync +replconf +ping",
  sentinel:
    "resetkeys resetchannels allchannels -@all +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill",
  sentinelApp:
    "resetkeys resetchannels &+switch-master -@all +auth +hello +ping +sentinel|get-master-addr-by-name +subscribe",
  sentinelPeer:
    "resetkeys resetchannels allchannels -@all +@connection +ping +publish +subscribe +info +role +sentinel",
  /**
   * redis_exporter on a Valkey: what it reads per scrape; no key, no channel, no write, and no
   * CONFIG GET (it would show masterauth: the exporter runs with -config-command=-).
   */
  monitor: "resetkeys resetchannels -@all +ping +info +client|setname +slowlog|len +latency|latest",
  /** redis_exporter on a Sentinel: the read-only SENTINEL subcommands it asks. */
  sentinelMonitor:
    "resetkeys resetchannels -@all +ping +info +client|setname +sentinel|masters +sentinel|master +sentinel|slaves +sentinel|replicas +sentinel|sentinels +sentinel|ckquorum",
} as const;

/** The user names of the ACL (rendered as `user <name> on ><password> <rights>`). */
export const USER_NAMES = {
  app: "app",
  admin: "admin",
  replication: "replication",
  sentinel: "sentinel",
  sentinelPeer: "sentinel-peer",
  monitor: "monitor",
} as const;

function user(name: string, password: string, rights: string): string {
  return `user ${name} on >${password} ${rights}`;
}

function common(layout: Layout, node: NodeName, dir: string = valkeyPaths(layout, node).dataDir): string[] {
  const paths = valkeyPaths(layout, node);
  return [
    `bind ${bindAddresses(layout, node).join(" ")}`,
    `port ${layout.ports.valkey}`,
    "protected-mode yes",
    "daemonize no",
    `pidfile ${paths.pidfile}`,
    `logfile ${paths.logfile}`,
    "loglevel notice",
    `dir ${dir}`,
    "user default off",
    "appendonly yes",
    "appendfsync everysec",
    "maxmemory-policy noeviction",
  ];
}

/** The gate's token Valkey: AOF on, never evicts, sized for the 1 GB gate. */
export function renderTokenValkey(layout: Layout): string {
  return (
    [
      "# Rendered by yquant-infra (cloud-init/valkey.ts): token Valkey on the gate.",
      ...common(layout, tokenNode(layout), valkeyPaths(layout, tokenNode(layout)).tokenDataDir),
      user(USER_NAMES.app, layout.secrets.users.tokenApp, ACL_RIGHTS.app),
      user(USER_NAMES.admin, layout.secrets.users.tokenAdmin, ACL_RIGHTS.admin),
      user(USER_NAMES.monitor, layout.secrets.users.tokenMonitor, ACL_RIGHTS.monitor),
      `maxmemory ${layout.tokenMaxmemoryMb}mb`,
    ].join("\n") + "\n"
  );
}

/** An engine's message Valkey: blue starts as master, green as its replica (fixed bootstrap). */
export function renderMessageValkey(layout: Layout, node: NodeName): string {
  const master = layout.nodes[BOOTSTRAP_MESSAGE_MASTER].privateIp;
  const lines = [
    `# Rendered by yquant-infra (cloud-init/valkey.ts): message Valkey on ${node}.`,
    ...common(layout, node),
    user(USER_NAMES.app, layout.secrets.valkeyPassword, ACL_RIGHTS.app),
    user(USER_NAMES.admin, layout.secrets.users.messageAdmin, ACL_RIGHTS.admin),
    user(USER_NAMES.replication, layout.secrets.users.messageReplication, ACL_RIGHTS.replication),
    user(USER_NAMES.sentinel, layout.secrets.users.messageSentinel, ACL_RIGHTS.sentinel),
    user(USER_NAMES.monitor, layout.secrets.users.messageMonitor, ACL_RIGHTS.monitor),
    `maxmemory ${layout.messageMaxmemoryMb}mb`,
    `masteruser ${USER_NAMES.replication}`,
    `masterauth ${layout.secrets.users.messageReplication}`,
    `replica-announce-ip ${layout.nodes[node].privateIp}`,
    `bind-source-addr ${layout.nodes[node].privateIp}`,
    "replica-read-only yes",
    `min-replicas-to-write ${MESSAGE_WRITE_GUARD.minReplicasToWrite}`,
    `min-replicas-max-lag ${MESSAGE_WRITE_GUARD.minReplicasMaxLagSeconds}`,
  ];
  if (node !== BOOTSTRAP_MESSAGE_MASTER) {
    lines.push(`replicaof ${master} ${layout.ports.valkey}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The message store's never-promoted replica (a node of role `messageReplica`, the gate): it
 * replicates the bootstrap master, and Sentinel, which discovers it in the master's INFO, moves it
 * to each new master; `replica-priority 0` keeps Sentinel from ever promoting it. Only the users
 * that talk to it: admin (the scripts), sentinel, monitor; nobody replicates from it. No
 * persistence (a restart resyncs from the master) and no fork on the 1 GB gate; its maxmemory is the
 * message store's, which the gate bounds (stack-layout.ts).
 */
export function renderMessageReplica(layout: Layout, node: NodeName): string {
  const paths = valkeyPaths(layout, node);
  const master = layout.nodes[BOOTSTRAP_MESSAGE_MASTER].privateIp;
  const { privateIp } = layout.nodes[node];
  return (
    [
      `# Rendered by yquant-infra (cloud-init/valkey.ts): message store replica on ${node}, never promoted.`,
      `bind ${bindAddresses(layout, node).join(" ")}`,
      `port ${layout.ports.replica}`,
      "protected-mode yes",
      "daemonize no",
      `pidfile ${paths.replicaPidfile}`,
      `logfile ${paths.replicaLogfile}`,
      "loglevel notice",
      `dir ${paths.dataDir}`,
      `dbfilename ${MESSAGE_REPLICA_INSTANCE}.rdb`,
      "user default off",
      "appendonly no",
      'save ""',
      "rdb-del-sync-files yes",
      `maxmemory ${layout.messageMaxmemoryMb}mb`,
      "maxmemory-policy noeviction",
      user(USER_NAMES.admin, layout.secrets.users.messageAdmin, ACL_RIGHTS.admin),
      user(USER_NAMES.sentinel, layout.secrets.users.messageSentinel, ACL_RIGHTS.sentinel),
      user(USER_NAMES.monitor, layout.secrets.users.messageMonitor, ACL_RIGHTS.monitor),
      `masteruser ${USER_NAMES.replication}`,
      `masterauth ${layout.secrets.users.messageReplication}`,
      `replica-announce-ip ${privateIp}`,
      `bind-source-addr ${privateIp}`,
      "replica-read-only yes",
      "replica-priority 0",
      `replicaof ${master} ${layout.ports.valkey}`,
    ].join("\n") + "\n"
  );
}

/** Sentinel on any node: watches the message Valkey under `mymaster`, bootstrap master blue. */
export function renderSentinel(layout: Layout, node: NodeName): string {
  const paths = valkeyPaths(layout, node);
  const s = layout.sentinel;
  const master = layout.nodes[BOOTSTRAP_MESSAGE_MASTER].privateIp;
  return (
    [
      `# Rendered once by yquant-infra (cloud-init/valkey.ts): Sentinel on ${node}. Sentinel rewrites this file.`,
      `bind ${bindAddresses(layout, node).join(" ")}`,
      `port ${layout.ports.sentinel}`,
      `bind-source-addr ${layout.nodes[node].privateIp}`,
      "daemonize no",
      `pidfile ${paths.sentinelPidfile}`,
      `logfile ${paths.sentinelLogfile}`,
      `dir ${paths.dataDir}`,
      "user default off",
      user(USER_NAMES.app, layout.secrets.sentinelPassword, ACL_RIGHTS.sentinelApp),
      user(USER_NAMES.admin, layout.secrets.users.sentinelAdmin, ACL_RIGHTS.admin),
      user(USER_NAMES.sentinelPeer, layout.secrets.users.sentinelPeer, ACL_RIGHTS.sentinelPeer),
      user(USER_NAMES.monitor, layout.secrets.users.sentinelMonitor, ACL_RIGHTS.sentinelMonitor),
      "sentinel resolve-hostnames no",
      `sentinel announce-ip ${layout.nodes[node].privateIp}`,
      `sentinel announce-port ${layout.ports.sentinel}`,
      `sentinel sentinel-user ${USER_NAMES.sentinelPeer}`,
      `sentinel sentinel-pass ${layout.secrets.users.sentinelPeer}`,
      `sentinel monitor ${s.masterName} ${master} ${layout.ports.valkey} ${s.quorum}`,
      `sentinel auth-user ${s.masterName} ${USER_NAMES.sentinel}`,
      `sentinel auth-pass ${s.masterName} ${layout.secrets.users.messageSentinel}`,
      `sentinel down-after-milliseconds ${s.masterName} ${s.downAfterMilliseconds}`,
      `sentinel failover-timeout ${s.masterName} ${s.failoverTimeoutMilliseconds}`,
      `sentinel parallel-syncs ${s.masterName} 1`,
      // Events to the log and to a metric (cloud-init/scripts/sentinel-event.sh, docs/monitoring.md).
      `sentinel notification-script ${s.masterName} ${nodePath(layout, node, "/opt/yquant/bin/sentinel-event.sh")}`,
    ].join("\n") + "\n"
  );
}
