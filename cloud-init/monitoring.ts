/**
 * Monitoring: what each node runs (units, scripts, scrape ports, firewall lines) and where its files
 * go. The files are rendered by `monitoring-config.ts` (Prometheus, its alert rules, Alertmanager,
 * the exporter's passwords) and `monitoring-units.ts` (the packaged units' settings, the
 * node-metrics unit); `monitoring-files.ts` lists every file a node gets. Their headers name this
 * module, where monitoring is described.
 *
 * Placement (docs/monitoring.md): Prometheus and Alertmanager run on BOTH engines; the gate runs
 * only node_exporter and node-metrics.sh, because its services must stay within 128 MB RSS (a
 * Prometheus alone needs more). Each engine's Prometheus scrapes all three nodes and sends to both
 * Alertmanagers, which gossip (9094 TCP+UDP between the engines) and so notify once; either engine
 * can be down. Both Prometheus servers see identical series (no per-replica external label), which
 * is what lets the Alertmanager cluster deduplicate. Valkey and Sentinel are scraped through each
 * engine's own redis_exporter (multi-target `/scrape`, on the engine's loopback), so exporter
 * traffic to the gate is the Valkey/Sentinel traffic the NSGs already allow.
 *
 * Every path hangs from the node's root and every address comes from the Layout, so the lab runs
 * the same files (with its own MonitoringSettings: 1-second scrapes).
 */
import { Layout, NodeName, nodePath } from "./layout";
import type { FirewallRule } from "./node-config";
import { RenderError } from "./node-config";
import { RoleSpec, nodesWhere, roleOf } from "./topology";

/** Monitoring ports (fixed; the NSGs and host firewalls open exactly these, see `scrapeRules`). */
export const MONITORING_PORTS = {
  prometheus: 9090,
  alertmanager: 9093,
  alertmanagerCluster: 9094,
  nodeExporter: 9100,
  redisExporter: 9121,
} as const;

/** The nodes that run Prometheus and Alertmanager (role `monitoring: server`): blue and green. */
export function monitoringServers(layout: Layout): NodeName[] {
  return nodesWhere(layout.topology, (role) => role.monitoring === "server");
}

/** The nodes Prometheus scrapes (every node whose role runs at least the agents). */
export function monitoredNodes(layout: Layout): NodeName[] {
  return nodesWhere(layout.topology, (role) => role.monitoring !== "none");
}

/**
 * Monitoring's inbound ports on a node of `role`, all from the monitoring servers only: every
 * monitored node opens node_exporter (and HAProxy's stats/metrics port where HAProxy runs); a
 * server also opens Prometheus, Alertmanager and Alertmanager's gossip (TCP and UDP). The NSGs
 * (components/network.ts) and the host firewalls (`monitoringFirewallRules`) allow exactly these.
 */
export function monitoringScrapePorts(
  ports: Layout["ports"],
  role: Pick<RoleSpec, "monitoring" | "haproxy">,
): { proto: "tcp" | "udp"; port: number; name: string }[] {
  const P = MONITORING_PORTS;
  if (role.monitoring === "none") return [];
  return [
    { proto: "tcp", port: P.nodeExporter, name: "node-exporter" },
    ...(role.haproxy ? [{ proto: "tcp" as const, port: ports.stats, name: "haproxy-metrics" }] : []),
    ...(role.monitoring === "server"
      ? [
          { proto: "tcp" as const, port: P.prometheus, name: "prometheus" },
          { proto: "tcp" as const, port: P.alertmanager, name: "alertmanager" },
          { proto: "tcp" as const, port: P.alertmanagerCluster, name: "alertmanager-gossip" },
          { proto: "udp" as const, port: P.alertmanagerCluster, name: "alertmanager-gossip" },
        ]
      : []),
  ];
}

/** The host firewall lines of `monitoringScrapePorts`, from each monitoring server's /32. */
export function monitoringFirewallRules(layout: Layout, node: NodeName): FirewallRule[] {
  const rules: FirewallRule[] = [];
  for (const rule of monitoringScrapePorts(layout.ports, roleOf(layout.topology, node))) {
    for (const server of monitoringServers(layout)) {
      rules.push({ ...rule, source: `${layout.nodes[server].privateIp}/32` });
    }
  }
  return rules;
}

export type MonitoringUnit =
  | "prometheus-node-exporter"
  | "yquant-node-metrics"
  | "prometheus-redis-exporter"
  | "prometheus"
  | "prometheus-alertmanager";

/** Units of a node, in start order, from its role. */
export function monitoringUnits(layout: Layout, node: NodeName): MonitoringUnit[] {
  const kind = roleOf(layout.topology, node).monitoring;
  if (kind === "none") return [];
  const agents: MonitoringUnit[] = ["prometheus-node-exporter", "yquant-node-metrics"];
  return kind === "agent"
    ? agents
    : [...agents, "prometheus-redis-exporter", "prometheus", "prometheus-alertmanager"];
}

/** Scripts monitoring installs (cloud-init/scripts/). */
export const MONITORING_SCRIPTS = ["node-metrics", "sentinel-event"] as const;

/** Where each runs: node-metrics.sh on every monitored node, sentinel-event.sh wherever Sentinel runs. */
export function monitoringScripts(layout: Layout, node: NodeName): (typeof MONITORING_SCRIPTS)[number][] {
  const role = roleOf(layout.topology, node);
  return [
    ...(role.monitoring === "none" ? [] : (["node-metrics"] as const)),
    ...(role.sentinel ? (["sentinel-event"] as const) : []),
  ];
}

export function monitoringPaths(layout: Layout, node: NodeName) {
  const p = (abs: string): string => nodePath(layout, node, abs);
  return {
    prometheusConfig: p("/etc/prometheus/prometheus.yml"),
    rules: p("/etc/prometheus/yquant-alerts.yml"),
    alertmanagerConfig: p("/etc/prometheus/alertmanager.yml"),
    prometheusData: p("/var/lib/prometheus/metrics2"),
    alertmanagerData: p("/var/lib/prometheus/alertmanager"),
    textfileDir: p("/var/lib/yquant/metrics"),
    exporterPasswords: p("/etc/yquant/redis-exporter.json"),
    defaults: (unit: MonitoringUnit): string => p(`/etc/default/${unit}`),
    script: (name: (typeof MONITORING_SCRIPTS)[number]): string => p(`/opt/yquant/bin/${name}.sh`),
  };
}

/** Refuses settings that would render a broken or unbounded configuration, naming the field. */
export function validateMonitoring(layout: Layout): void {
  const m = layout.monitoring;
  const positive: (keyof typeof m)[] = [
    "scrapeIntervalSeconds",
    "evaluationIntervalSeconds",
    "groupWaitSeconds",
    "groupIntervalSeconds",
    "repeatIntervalSeconds",
    "eventHoldSeconds",
    "retentionDays",
    "retentionSizeMb",
    "peerTimeoutSeconds",
  ];
  for (const key of positive) {
    const v = m[key];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      throw new RenderError(
        `layout.monitoring.${key}: must be a whole number of at least 1, got ${String(v)}`,
      );
    }
  }
  if (m.webhookUrl !== "" && !/^https?:\/\/[^\s'"\\]+$/.test(m.webhookUrl)) {
    throw new RenderError("layout.monitoring.webhookUrl: must be empty or an http:// or https:// URL");
  }
}

/** The first line of every rendered monitoring file. */
export const renderedBy = (what: string): string =>
  `# Rendered by yquant-infra (cloud-init/monitoring.ts): ${what}.\n`;
