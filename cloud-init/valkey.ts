/**
 * Valkey and Sentinel configuration: the token store on the gate, the message store on the engines,
 * and Sentinel on all three nodes.
 *
 * Compatibility: Ubuntu 24.04 ships Valkey 7.2 (noble-updates/universe); the lab and CI run Valkey
 * 8.0 (Debian bookworm-backports). Every directive below exists with the same meaning in both:
 * `bind`, `port`, `bind-source-addr` (Redis 7.0), `protected-mode`, `requirepass`, `masterauth`, `replica-announce-ip`, `replicaof`,
 * `appendonly`, `appendfsync`, `maxmemory`, `maxmemory-policy`, `dir`, `pidfile`, `logfile`, and in
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
  };
}

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
  ];
  if (node !== BOOTSTRAP_MESSAGE_MASTER) {
    lines.push(`replicaof ${master} ${layout.ports.valkey}`);
  }
  return lines.join("\n") + "\n";
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
