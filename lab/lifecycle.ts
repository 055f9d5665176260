/**
 * The lab's lifecycle: up (render, materialise, setup.sh, wait for health-check.sh) and down.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { NodeName, gateNode, nodeNames, nodesWhere } from "../cloud-init/layout";
import { monitoringPaths, monitoringServers, monitoringUnits } from "../cloud-init/monitoring";
import { renderUserData } from "../cloud-init/user-data";
import { Lab } from "./lab";
import { materialiseNode } from "./materialise";
import { startReceiver, stopReceiver } from "./monitoring";
import { waitFor } from "./poll";
import { nodeServices } from "./services";
import { MESSAGE_REPLICA_UNIT } from "../cloud-init/valkey";

export type Log = (line: string) => void;

/** Where `up` keeps the user data it materialised last, to know whether it changed. */
function stateFile(lab: Lab, node: NodeName): string {
  return path.join(lab.dir, "state", `${node}.user-data.yaml`);
}

/** setup.sh runs on every other node before the gate's, in table order. */
function setupOrder(lab: Lab): NodeName[] {
  const topology = lab.layout.topology;
  return [...nodesWhere(topology, (role) => !role.haproxy), gateNode(topology)];
}

function anyRunning(lab: Lab): boolean {
  return nodeNames(lab.layout).some((n) =>
    nodeServices(lab.layout, n).some((s) => lab.pid(n, s.unit) !== null),
  );
}

/** Thaws every frozen lab process (a frozen node would otherwise never pass its health check). */
export function thawAll(lab: Lab): void {
  for (const node of nodeNames(lab.layout)) {
    for (const s of nodeServices(lab.layout, node)) lab.signal(node, s.unit, "SIGCONT");
  }
}

/** Last lines of a node's lab and Valkey logs, for failure reports. */
export function logTails(lab: Lab, node: NodeName, lines = 8): string {
  const dirs = [path.join(lab.root(node), "var/log/lab"), path.join(lab.root(node), "var/log/valkey")];
  const out: string[] = [];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, file), "utf8").trimEnd().split("\n").slice(-lines);
      if (text.length > 0 && text[0] !== "") out.push(`--- ${path.join(dir, file)}`, ...text);
    }
  }
  return out.join("\n");
}

/**
 * Brings the lab up. Idempotent: when the rendered user data is unchanged since the last `up`, no file
 * is rewritten and only what is not running is started (setup.sh's own second-run path). When it
 * changed (new renderers, other ports), the lab is stopped and the node directories are made afresh
 * from the new user data (the secrets are kept).
 */
export interface UpOptions {
  /** Bound on each node's wait for health-check.sh, ms. Default 90000. */
  readonly healthTimeoutMs?: number;
  /**
   * false (`up --no-monitoring`): setup.sh leaves the monitoring units stopped (the shim's
   * YQ_LAB_SKIP_UNITS) and no webhook receiver starts; units already running stay. Default true.
   */
  readonly monitoring?: boolean;
}

export async function up(lab: Lab, log: Log, options: UpOptions = {}): Promise<void> {
  const healthTimeoutMs = options.healthTimeoutMs ?? 90_000;
  const monitoring = options.monitoring ?? true;
  const changed = nodeNames(lab.layout).filter((node) => {
    const file = stateFile(lab, node);
    return !fs.existsSync(file) || fs.readFileSync(file, "utf8") !== renderUserData(lab.layout, node);
  });
  thawAll(lab);
  if (changed.length > 0) {
    if (anyRunning(lab)) {
      log(`user data changed for ${changed.join(", ")}: stopping the lab to recreate it`);
      await down(lab, log);
    }
    for (const node of nodeNames(lab.layout)) {
      fs.rmSync(lab.root(node), { recursive: true, force: true });
      const result = materialiseNode(lab.layout, node);
      fs.mkdirSync(path.dirname(stateFile(lab, node)), { recursive: true });
      fs.writeFileSync(stateFile(lab, node), result.userData);
      log(
        `${node}: wrote ${result.files.length} files from its user data under ${lab.root(node)}` +
          (result.ownersSkipped > 0 ? ` (owners not applied: ${result.ownersSkipped})` : ""),
      );
    }
  } else {
    log("user data unchanged since the last up: files kept");
    // The Alertmanagers start without a notification log. An alert the last lab life notified as
    // firing, and never as resolved (the lab stopped first), would otherwise be held back as already
    // sent when it fires again: in CI, scenario 13's failover alert never reached the receiver.
    // Prometheus starts without the last life's samples too: they stay current for 5 min after a
    // restart (no staleness marker), so the Sentinels' old master beside the new one fired
    // SentinelsDisagreeOnMaster at rest in a fresh-clone CI run.
    if (!anyRunning(lab)) {
      for (const node of monitoringServers(lab.layout)) {
        const paths = monitoringPaths(lab.layout, node);
        fs.rmSync(paths.alertmanagerData, { recursive: true, force: true });
        fs.rmSync(paths.prometheusData, { recursive: true, force: true });
      }
    }
  }
  lab.installDeliveredScripts();
  if (monitoring) await startReceiver(lab);
  for (const node of setupOrder(lab)) {
    log(`${node}: running setup.sh${monitoring ? "" : " (without monitoring)"}`);
    const skip = monitoring ? {} : { YQ_LAB_SKIP_UNITS: monitoringUnits(lab.layout, node).join(" ") };
    const r = await lab.runScript(node, "setup", [], 180_000, { ...process.env, ...skip });
    for (const line of r.stdout
      .trim()
      .split("\n")
      .filter((l) => l.length > 0))
      log(`  ${line}`);
    if (r.status !== 0) {
      throw new Error(`${node}: setup.sh exited ${r.status}:\n${r.stderr.trim()}\n${logTails(lab, node)}`);
    }
  }
  for (const node of nodeNames(lab.layout)) {
    log(`${node}: waiting for health-check.sh`);
    const started = performance.now();
    let last = "";
    const ok = await waitFor(
      async () => {
        const r = await lab.runScript(node, "health-check", [], 30_000);
        last = (r.stdout + r.stderr).trim();
        return r.status === 0 ? true : undefined;
      },
      healthTimeoutMs,
      500,
    );
    if (!ok)
      throw new Error(`${node}: health-check.sh still failing after ${healthTimeoutMs / 1000}s:\n${last}`);
    log(`${node}: healthy after ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }
}

/** Stops every unit the lab started, by pid (HAProxy first, Valkey last). Returns how many stopped. */
export async function down(lab: Lab, log: Log): Promise<number> {
  let stopped = 0;
  const order = [
    "haproxy",
    ...lab.layout.app.services.map((s) => `yquant-${s.name}`),
    "prometheus-alertmanager",
    "prometheus",
    "prometheus-redis-exporter",
    "yquant-node-metrics",
    "prometheus-node-exporter",
    "valkey-sentinel",
    MESSAGE_REPLICA_UNIT,
    "valkey-server",
  ];
  for (const unit of order) {
    for (const node of nodeNames(lab.layout)) {
      if (!nodeServices(lab.layout, node).some((s) => s.unit === unit)) continue;
      const pid = lab.pid(node, unit);
      if (pid === null) continue;
      await lab.stop(node, unit);
      stopped += 1;
      log(`${node}: stopped ${unit} (pid ${pid})`);
    }
  }
  if (await stopReceiver(lab)) {
    stopped += 1;
    log("stopped the webhook receiver");
  }
  return stopped;
}
