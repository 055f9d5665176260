/**
 * The monitoring servers' configuration (cloud-init/monitoring.ts says where they run): Prometheus,
 * its alert rules, Alertmanager, and the passwords redis_exporter scrapes each store with. Pure.
 */
import * as yaml from "js-yaml";
import { ALERT_RULES, holdDuration } from "./alert-rules";
import { Layout, NodeName, messageReplicaNodes } from "./layout";
import {
  monitoringServers,
  monitoredNodes,
  monitoringPaths,
  MONITORING_PORTS,
  renderedBy,
  validateMonitoring,
} from "./monitoring";
import { nodesWhere, roleOf } from "./topology";

const dump = (value: unknown): string => yaml.dump(value, { sortKeys: true, lineWidth: -1, noRefs: true });

/** `prometheus.yml` of a monitoring server: scrape every node over the private network, alert every Alertmanager. */
export function renderPrometheusConfig(layout: Layout, node: NodeName): string {
  validateMonitoring(layout);
  const m = layout.monitoring;
  const servers = monitoringServers(layout);
  const ip = (n: NodeName): string => layout.nodes[n].privateIp;
  const at = (n: NodeName, port: number) => ({ targets: [`${ip(n)}:${port}`], labels: { node: n } });
  const exporter = `${layout.nodes[node].loopback}:${MONITORING_PORTS.redisExporter}`;
  const viaExporter = (job: string, targets: readonly ExporterTarget[]) => ({
    job_name: job,
    metrics_path: "/scrape",
    static_configs: targets.map((t) => ({
      targets: [exporterTarget(ip(t.node), t.port)],
      labels: { node: t.node, store: t.store },
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
      viaExporter("valkey", valkeyTargets(layout)),
      viaExporter(
        "sentinel",
        sentinelNodes(layout).map((n) => ({ node: n, port: layout.ports.sentinel, store: "sentinel" })),
      ),
      { job_name: "prometheus", static_configs: servers.map((e) => at(e, MONITORING_PORTS.prometheus)) },
      { job_name: "alertmanager", static_configs: servers.map((e) => at(e, MONITORING_PORTS.alertmanager)) },
    ],
  };
  return renderedBy(`Prometheus on ${node}`) + dump(config);
}

const valkeyNodes = (layout: Layout): NodeName[] => nodesWhere(layout.topology, (r) => r.valkey !== "none");

/** One store redis_exporter scrapes: a node's port, labelled with its store. */
interface ExporterTarget {
  readonly node: NodeName;
  readonly port: number;
  /** `token`, `message` (the engines' Valkeys and the gate's message replica) or `sentinel`. */
  readonly store: string;
}

/**
 * Every Valkey, per instance: each node's own store, then the message store's never-promoted
 * replicas, labelled `store="message"` so the message alerts (down, replication, lag) cover them.
 */
function valkeyTargets(layout: Layout): ExporterTarget[] {
  return [
    ...valkeyNodes(layout).map((n) => ({
      node: n,
      port: layout.ports.valkey,
      store: roleOf(layout.topology, n).valkey,
    })),
    ...messageReplicaNodes(layout).map((n) => ({ node: n, port: layout.ports.replica, store: "message" })),
  ];
}
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
    renderedBy("alert rules, from cloud-init/alert-rules.ts") + dump({ groups: [{ name: "yquant", rules }] })
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
  return renderedBy("Alertmanager; holds the webhook secret (root:prometheus 0640)") + dump(config);
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
  for (const t of valkeyTargets(layout)) {
    entries[exporterTarget(layout.nodes[t.node].privateIp, t.port)] =
      t.store === "token" ? users.tokenMonitor : users.messageMonitor;
  }
  for (const n of sentinelNodes(layout)) {
    entries[exporterTarget(layout.nodes[n].privateIp, layout.ports.sentinel)] = users.sentinelMonitor;
  }
  return JSON.stringify(entries, null, 2) + "\n";
}
