/**
 * Valkey and Sentinel configuration: the token store on the gate, the message store on the engines,
 * and Sentinel on all three nodes.
 *
 * Compatibility: Ubuntu 24.04 ships Valkey 7.2 (noble-updates/universe); the lab and CI run Valkey
 * 8.0 (Debian bookworm-backports). Every directive below exists with the same meaning in both:
 * `bind`, `port`, `protected-mode`, `requirepass`, `masterauth`, `replica-announce-ip`, `replicaof`,
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
 */
import { BOOTSTRAP_MESSAGE_MASTER, Layout, NodeName, bindAddresses, nodePath, tokenNode } from "./layout";

/** Data, pid and log paths of the packaged units (Debian/Ubuntu `valkey-server`, `valkey-sentinel`). */
export function valkeyPaths(
  layout: Layout,
  node: NodeName,
): {
  config: string;
  sentinelConfig: string;
  dataDir: string;
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
    logDir: p("/var/log/valkey"),
    pidfile: p("/run/valkey/valkey-server.pid"),
    sentinelPidfile: p("/run/sentinel/valkey-sentinel.pid"),
    logfile: p("/var/log/valkey/valkey-server.log"),
    sentinelLogfile: p("/var/log/valkey/valkey-sentinel.log"),
  };
}

function common(layout: Layout, node: NodeName): string[] {
  const paths = valkeyPaths(layout, node);
  return [
    `bind ${bindAddresses(layout, node).join(" ")}`,
    `port ${layout.ports.valkey}`,
    "protected-mode yes",
    "daemonize no",
    `pidfile ${paths.pidfile}`,
    `logfile ${paths.logfile}`,
    "loglevel notice",
    `dir ${paths.dataDir}`,
    `requirepass ${layout.secrets.valkeyPassword}`,
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
      ...common(layout, tokenNode(layout)),
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
    `maxmemory ${layout.messageMaxmemoryMb}mb`,
    `masterauth ${layout.secrets.valkeyPassword}`,
    `replica-announce-ip ${layout.nodes[node].privateIp}`,
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
      "daemonize no",
      `pidfile ${paths.sentinelPidfile}`,
      `logfile ${paths.sentinelLogfile}`,
      `dir ${paths.dataDir}`,
      `requirepass ${layout.secrets.sentinelPassword}`,
      "sentinel resolve-hostnames no",
      `sentinel announce-ip ${layout.nodes[node].privateIp}`,
      `sentinel announce-port ${layout.ports.sentinel}`,
      `sentinel sentinel-pass ${layout.secrets.sentinelPassword}`,
      `sentinel monitor ${s.masterName} ${master} ${layout.ports.valkey} ${s.quorum}`,
      `sentinel auth-pass ${s.masterName} ${layout.secrets.valkeyPassword}`,
      `sentinel down-after-milliseconds ${s.masterName} ${s.downAfterMilliseconds}`,
      `sentinel failover-timeout ${s.masterName} ${s.failoverTimeoutMilliseconds}`,
      `sentinel parallel-syncs ${s.masterName} 1`,
      // Events to the log and to a metric (cloud-init/scripts/sentinel-event.sh, docs/monitoring.md).
      `sentinel notification-script ${s.masterName} ${nodePath(layout, node, "/opt/yquant/bin/sentinel-event.sh")}`,
    ].join("\n") + "\n"
  );
}
