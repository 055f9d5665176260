/** Every rendered monitoring file of a node, for its user data (the scripts come from cloud-init/scripts/). */
import { Layout, NodeName, nodePath } from "./layout";
import { monitoringPaths, monitoringUnits, validateMonitoring } from "./monitoring";
import {
  renderAlertRules,
  renderAlertmanagerConfig,
  renderExporterPasswords,
  renderPrometheusConfig,
} from "./monitoring-config";
import { renderNodeMetricsUnit, renderUnitDefaults } from "./monitoring-units";
import { roleOf } from "./topology";

/** One rendered monitoring file of a node (node-files.ts adds it to the node's files). */
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
