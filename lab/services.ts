/**
 * Which units run on which lab node, and the names the CLI gives them. Read from the role table and
 * the monitoring renderer, so a node's services follow the topology.
 */
import { Layout, NodeName, roleOf } from "../cloud-init/layout";
import { MONITORING_PORTS, MonitoringUnit, monitoringUnits } from "../cloud-init/monitoring";
import { MESSAGE_REPLICA_UNIT } from "../cloud-init/valkey";

/** A service as the CLI names it, and the unit the shim runs for it. */
export interface LabService {
  /** CLI name: `haproxy`, `valkey`, `replica`, `sentinel`, or an app service name (`frontend`, ...). */
  readonly name: string;
  readonly unit: string;
  /** The port it serves, when it serves one. */
  readonly port: number | null;
}

/** Every service of `node`, in start order. */
export function nodeServices(layout: Layout, node: NodeName): LabService[] {
  const role = roleOf(layout.topology, node);
  return [
    ...(role.valkey === "none" ? [] : [{ name: "valkey", unit: "valkey-server", port: layout.ports.valkey }]),
    // The message store's never-promoted replica starts after the node's own Valkey (setup.sh's order).
    ...(role.messageReplica
      ? [{ name: "replica", unit: MESSAGE_REPLICA_UNIT, port: layout.ports.replica }]
      : []),
    ...(role.sentinel ? [{ name: "sentinel", unit: "valkey-sentinel", port: layout.ports.sentinel }] : []),
    ...(role.haproxy ? [{ name: "haproxy", unit: "haproxy", port: layout.ports.http }] : []),
    ...(role.app
      ? layout.app.services.map((s, i) => ({
          name: s.name,
          unit: `yquant-${s.name}`,
          port: i === 0 ? layout.ports.app : null,
        }))
      : []),
    ...monitoringUnits(layout, node).map((unit) => ({
      name: MONITORING_SERVICE_NAMES[unit],
      unit,
      port: MONITORING_SERVICE_PORTS[unit],
    })),
  ];
}

/** CLI names of the monitoring units (`npm run lab -- kill blue prometheus`). */
export const MONITORING_SERVICE_NAMES: Readonly<Record<MonitoringUnit, string>> = {
  "prometheus-node-exporter": "node-exporter",
  "yquant-node-metrics": "node-metrics",
  "prometheus-redis-exporter": "redis-exporter",
  prometheus: "prometheus",
  "prometheus-alertmanager": "alertmanager",
};

const MONITORING_SERVICE_PORTS: Readonly<Record<MonitoringUnit, number | null>> = {
  "prometheus-node-exporter": MONITORING_PORTS.nodeExporter,
  "yquant-node-metrics": null,
  "prometheus-redis-exporter": MONITORING_PORTS.redisExporter,
  prometheus: MONITORING_PORTS.prometheus,
  "prometheus-alertmanager": MONITORING_PORTS.alertmanager,
};

/** The app service that serves the app port (`app` is its alias on the command line). */
export function httpService(layout: Layout): string {
  return layout.app.services[0]?.name ?? "frontend";
}

/** Resolves a CLI service name (or alias `app`) on `node`; undefined when `node` has no such service. */
export function findService(layout: Layout, node: NodeName, name: string): LabService | undefined {
  const wanted = name === "app" ? httpService(layout) : name;
  return nodeServices(layout, node).find((s) => s.name === wanted || s.unit === wanted);
}

export function serviceNames(layout: Layout, node: NodeName): string[] {
  const names = nodeServices(layout, node).map((s) => s.name);
  return roleOf(layout.topology, node).app ? [...names, "app"] : names;
}
