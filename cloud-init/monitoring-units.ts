/** The monitoring units' settings: the packaged units' `/etc/default` files, and the node-metrics unit. Pure. */
import { Layout, NodeName } from "./layout";
import {
  MONITORING_PORTS,
  MonitoringUnit,
  monitoringPaths,
  monitoringServers,
  monitoringUnits,
  validateMonitoring,
} from "./monitoring";
import { RenderError } from "./node-config";
import { USER_NAMES } from "./valkey";

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
