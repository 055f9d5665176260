/**
 * Monitoring: what each node runs, and the pure renderers of its files (Prometheus, its alert
 * rules, Alertmanager, the packaged exporters' settings).
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
import * as yaml from "js-yaml";
import { ALERT_RULES, holdDuration } from "./alert-rules";
import { Layout, NodeName, nodePath } from "./layout";
import type { FirewallRule } from "./node-config";
import { RenderError } from "./node-config";
import { RoleSpec, nodesWhere, roleOf } from "./topology";
import { USER_NAMES } from "./valkey";

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

const dump = (value: unknown): string => yaml.dump(value, { sortKeys: true, lineWidth: -1, noRefs: true });
const header = (what: string): string => `# Rendered by yquant-infra (cloud-init/monitoring.ts): ${what}.\n`;

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

/** `prometheus.yml` of a monitoring server: scrape every node over the private network, alert every Alertmanager. */
export function renderPrometheusConfig(layout: Layout, node: NodeName): string {
  validateMonitoring(layout);
  const m = layout.monitoring;
  const servers = monitoringServers(layout);
  const ip = (n: NodeName): string => layout.nodes[n].privateIp;
  const at = (n: NodeName, port: number) => ({ targets: [`${ip(n)}:${port}`], labels: { node: n } });
  const exporter = `${layout.nodes[node].loopback}:${MONITORING_PORTS.redisExporter}`;
  const store = (n: NodeName): string => roleOf(layout.topology, n).valkey;
  const viaExporter = (
    job: string,
    port: number,
    nodes: readonly NodeName[],
    label: (n: NodeName) => string,
  ) => ({
    job_name: job,
    metrics_path: "/scrape",
    static_configs: nodes.map((n) => ({
      targets: [exporterTarget(ip(n), port)],
      labels: { node: n, store: label(n) },
    })),
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__address__"], target_label: "instance" },
      { target_label: "__address__", replacement: exporter },
    ],
  });
  const config = {
    global: {
      scrape_interval: `${m.scrapeIntervalSeconds}s`,
      scrape_timeout: `${Math.min(10, m.scrapeIntervalSeconds)}s`,
      evaluation_interval: `${m.evaluationIntervalSeconds}s`,
    },
    rule_files: [monitoringPaths(layout, node).rules],
    alerting: {
      alertmanagers: [
        { static_configs: [{ targets: servers.map((e) => `${ip(e)}:${MONITORING_PORTS.alertmanager}`) }] },
      ],
    },
    scrape_configs: [
      {
        job_name: "node",
        static_configs: monitoredNodes(layout).map((n) => at(n, MONITORING_PORTS.nodeExporter)),
      },
      {
        job_name: "haproxy",
        static_configs: nodesWhere(layout.topology, (r) => r.haproxy).map((n) => at(n, layout.ports.stats)),
      },
      viaExporter("valkey", layout.ports.valkey, valkeyNodes(layout), store),
      viaExporter("sentinel", layout.ports.sentinel, sentinelNodes(layout), () => "sentinel"),
      { job_name: "prometheus", static_configs: servers.map((e) => at(e, MONITORING_PORTS.prometheus)) },
      { job_name: "alertmanager", static_configs: servers.map((e) => at(e, MONITORING_PORTS.alertmanager)) },
    ],
  };
  return header(`Prometheus on ${node}`) + dump(config);
}

const valkeyNodes = (layout: Layout): NodeName[] => nodesWhere(layout.topology, (r) => r.valkey !== "none");
const sentinelNodes = (layout: Layout): NodeName[] => nodesWhere(layout.topology, (r) => r.sentinel);

/** The alert rules file (the same on both engines). */
export function renderAlertRules(layout: Layout): string {
  validateMonitoring(layout);
  const m = layout.monitoring;
  const rules = ALERT_RULES.map((rule) => ({
    alert: rule.name,
    expr: rule.expr
      .replace(/\$HOLD/g, String(m.eventHoldSeconds))
      .replace(/\$MASTER/g, layout.sentinel.masterName)
      .replace(/\$QUORUM/g, String(layout.sentinel.quorum)),
    for: holdDuration(rule.hold, m.evaluationIntervalSeconds),
    labels: { severity: rule.severity },
    annotations: { summary: rule.summary, runbook: `docs/runbooks/${rule.runbook}` },
  }));
  return (
    header("alert rules, from cloud-init/alert-rules.ts") + dump({ groups: [{ name: "yquant", rules }] })
  );
}

/**
 * `alertmanager.yml`: one receiver (the webhook secret), grouped per alert and node; criticals
 * repeat every quarter of the warnings' interval; a node that is unreachable silences the alerts it
 * causes on that node, and a backend with no server silences the per-server ones.
 */
export function renderAlertmanagerConfig(layout: Layout): string {
  validateMonitoring(layout);
  const m = layout.monitoring;
  const s = (n: number): string => `${n}s`;
  const config = {
    route: {
      receiver: "oncall",
      group_by: ["alertname", "node"],
      group_wait: s(m.groupWaitSeconds),
      group_interval: s(m.groupIntervalSeconds),
      repeat_interval: s(m.repeatIntervalSeconds),
      routes: [
        {
          matchers: ['severity="critical"'],
          receiver: "oncall",
          repeat_interval: s(Math.max(1, Math.floor(m.repeatIntervalSeconds / 4))),
        },
      ],
    },
    receivers: [
      m.webhookUrl === ""
        ? { name: "oncall" }
        : { name: "oncall", webhook_configs: [{ url: m.webhookUrl, send_resolved: true, max_alerts: 20 }] },
    ],
    inhibit_rules: [
      {
        source_matchers: ['alertname="NodeUnreachable"'],
        target_matchers: ['alertname!="NodeUnreachable"'],
        equal: ["node"],
      },
      {
        source_matchers: ['alertname="LiveBackendNoHealthyServer"'],
        target_matchers: ['alertname=~"ActiveAppDown|AppServerDown|StandbyDown"'],
      },
    ],
  };
  return header("Alertmanager; holds the webhook secret (root:prometheus 0640)") + dump(config);
}

/**
 * A scrape target of redis_exporter. It logs in as the ACL user `monitor` (`-redis.user`, the same
 * name on every store; cloud-init/valkey.ts gives it read-only rights of its own) with the password
 * `renderExporterPasswords` keys by this URI. (A user in the URI is ignored without a password in it.)
 */
export function exporterTarget(ip: string, port: number): string {
  return `redis://${ip}:${port}`;
}

/** `/etc/yquant/redis-exporter.json`: the `monitor` user's password of every store, by scrape target. */
export function renderExporterPasswords(layout: Layout): string {
  const entries: Record<string, string> = {};
  const { users } = layout.secrets;
  for (const n of valkeyNodes(layout)) {
    const store = roleOf(layout.topology, n).valkey;
    entries[exporterTarget(layout.nodes[n].privateIp, layout.ports.valkey)] =
      store === "token" ? users.tokenMonitor : users.messageMonitor;
  }
  for (const n of sentinelNodes(layout)) {
    entries[exporterTarget(layout.nodes[n].privateIp, layout.ports.sentinel)] = users.sentinelMonitor;
  }
  return JSON.stringify(entries, null, 2) + "\n";
}

/**
 * The packaged units' `/etc/default/<unit>` (their `EnvironmentFile`, whose `ARGS` their
 * `ExecStart` appends; the lab's shim starts them the same way). Bounded retention on every store.
 */
export function renderUnitDefaults(layout: Layout, node: NodeName, unit: MonitoringUnit): string {
  validateMonitoring(layout);
  const m = layout.monitoring;
  const paths = monitoringPaths(layout, node);
  const ip = layout.nodes[node].privateIp;
  const peers = monitoringServers(layout).filter((n) => n !== node);
  const args: Record<MonitoringUnit, string[] | null> = {
    "prometheus-node-exporter": [
      `--web.listen-address=${ip}:${MONITORING_PORTS.nodeExporter}`,
      "--collector.disable-defaults",
      ...["cpu", "meminfo", "filesystem", "loadavg", "netdev", "time", "uname", "textfile"].map(
        (c) => `--collector.${c}`,
      ),
      `--collector.textfile.directory=${paths.textfileDir}`,
    ],
    "prometheus-redis-exporter": [
      `-web.listen-address=${layout.nodes[node].loopback}:${MONITORING_PORTS.redisExporter}`,
      "-redis.addr=",
      `-redis.user=${USER_NAMES.monitor}`,
      `-redis.password-file=${paths.exporterPasswords}`,
      // No CONFIG GET (the `monitor` user may not: it would show masterauth); no alert uses it.
      "-config-command=-",
    ],
    prometheus: [
      `--config.file=${paths.prometheusConfig}`,
      `--storage.tsdb.path=${paths.prometheusData}`,
      `--storage.tsdb.retention.time=${m.retentionDays}d`,
      `--storage.tsdb.retention.size=${m.retentionSizeMb}MB`,
      `--web.listen-address=${ip}:${MONITORING_PORTS.prometheus}`,
    ],
    "prometheus-alertmanager": [
      `--config.file=${paths.alertmanagerConfig}`,
      `--storage.path=${paths.alertmanagerData}`,
      "--data.retention=120h",
      `--web.listen-address=${ip}:${MONITORING_PORTS.alertmanager}`,
      `--cluster.listen-address=${ip}:${MONITORING_PORTS.alertmanagerCluster}`,
      `--cluster.advertise-address=${ip}:${MONITORING_PORTS.alertmanagerCluster}`,
      `--cluster.peer-timeout=${m.peerTimeoutSeconds}s`,
      ...peers.map(
        (n) => `--cluster.peer=${layout.nodes[n].privateIp}:${MONITORING_PORTS.alertmanagerCluster}`,
      ),
    ],
    "yquant-node-metrics": null,
  };
  const list = args[unit];
  if (list === null || !monitoringUnits(layout, node).includes(unit)) {
    throw new RenderError(`renderUnitDefaults: ${unit} has no /etc/default file on ${node}`);
  }
  return `# Rendered by yquant-infra (cloud-init/monitoring.ts) for ${node}.\nARGS="${list.join(" ")}"\n`;
}

/** `yquant-node-metrics.service`: node-metrics.sh, as root (it reads the TLS key's certificate). */
export function renderNodeMetricsUnit(layout: Layout, node: NodeName): string {
  const script = monitoringPaths(layout, node).script("node-metrics");
  return (
    [
      "# Rendered by yquant-infra (cloud-init/monitoring.ts).",
      "[Unit]",
      `Description=yQuant textfile metrics (${node})`,
      "",
      "[Service]",
      "Type=simple",
      `ExecStart=${script} --every ${layout.monitoring.scrapeIntervalSeconds}`,
      "Restart=always",
      "RestartSec=5",
      "",
      "[Install]",
      "WantedBy=multi-user.target",
    ].join("\n") + "\n"
  );
}

/** One rendered monitoring file of a node (user-data.ts adds it to write_files). */
export interface MonitoringFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: string;
  readonly owner: string;
}

/** Every rendered monitoring file `node` needs (the scripts come from cloud-init/scripts/). */
export function monitoringFiles(layout: Layout, node: NodeName): MonitoringFile[] {
  validateMonitoring(layout);
  const paths = monitoringPaths(layout, node);
  const files: MonitoringFile[] = [];
  const add = (path: string, content: string, permissions = "0644", owner = "root:root"): void => {
    files.push({ path, content, permissions, owner });
  };
  for (const unit of monitoringUnits(layout, node)) {
    if (unit === "yquant-node-metrics") {
      add(nodePath(layout, node, `/etc/systemd/system/${unit}.service`), renderNodeMetricsUnit(layout, node));
    } else {
      add(paths.defaults(unit), renderUnitDefaults(layout, node, unit));
    }
  }
  if (roleOf(layout.topology, node).monitoring === "server") {
    add(paths.exporterPasswords, renderExporterPasswords(layout), "0640", "root:prometheus");
    add(paths.prometheusConfig, renderPrometheusConfig(layout, node));
    add(paths.rules, renderAlertRules(layout));
    add(paths.alertmanagerConfig, renderAlertmanagerConfig(layout), "0640", "root:prometheus");
  }
  return files;
}
