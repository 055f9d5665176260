/**
 * The lab's operations: up (render, materialise, setup.sh, wait for health-check.sh), down, status.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import {
  Color,
  NodeName,
  gateNode,
  nodeNames,
  nodesWhere,
  otherColor,
  tokenNode,
} from "../cloud-init/layout";
import { monitoringPaths, monitoringServers } from "../cloud-init/monitoring";
import { renderUserData } from "../cloud-init/user-data";
import { Lab, nodeServices, sleep, waitFor } from "./lab";
import { materialiseNode } from "./materialise";
import { startReceiver, stopReceiver } from "./monitoring";
import { respCommand } from "./resp";
import { USER_NAMES } from "../cloud-init/valkey";

export type Log = (line: string) => void;

/** Where `up` keeps the user data it materialised last, to know whether it changed. */
function stateFile(lab: Lab, node: NodeName): string {
  return path.join(lab.dir, "state", `${node}.user-data.yaml`);
}

/** Nodes in the order `up` runs their setup.sh: the engines (apps, message Valkey) before the gate. */
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
export async function up(lab: Lab, log: Log, healthTimeoutMs = 90_000): Promise<void> {
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
    if (!anyRunning(lab)) {
      for (const node of monitoringServers(lab.layout)) {
        fs.rmSync(monitoringPaths(lab.layout, node).alertmanagerData, { recursive: true, force: true });
      }
    }
  }
  lab.installDeliveredScripts();
  await startReceiver(lab);
  for (const node of setupOrder(lab)) {
    log(`${node}: running setup.sh`);
    const r = await lab.runScript(node, "setup", [], 180_000);
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

// ---------------------------------------------------------------------------------------------
// status

export type Health = "ok" | "failing" | "stopped";

export interface ServiceStatus {
  readonly name: string;
  readonly unit: string;
  readonly port: number | null;
  readonly pid: number | null;
  readonly health: Health;
  readonly detail: string;
}

export interface NodeStatus {
  readonly name: NodeName;
  readonly address: string;
  readonly root: string;
  readonly services: ServiceStatus[];
}

export interface LabStatus {
  readonly schema: "yquant-lab-status/1";
  readonly labDir: string;
  readonly activeColor: Color | null;
  readonly messageMaster: {
    readonly address: string;
    readonly port: number;
    readonly node: NodeName | null;
  } | null;
  readonly sentinelViews: Record<NodeName, string | null>;
  readonly endpoints: Endpoints;
  readonly nodes: NodeStatus[];
}

export interface Endpoints {
  readonly live: string;
  readonly liveTls: string;
  readonly staging: string;
  readonly stats: string;
  readonly metrics: string;
  readonly valkey: Record<NodeName, string>;
  readonly sentinel: Record<NodeName, string>;
}

export function endpoints(lab: Lab): Endpoints {
  const { ports, publicBind } = lab.layout;
  const gate = lab.address(gateNode(lab.layout.topology));
  const per = (port: number): Record<NodeName, string> =>
    Object.fromEntries(nodeNames(lab.layout).map((n) => [n, `${lab.address(n)}:${port}`])) as Record<
      NodeName,
      string
    >;
  return {
    live: `http://${publicBind}:${ports.http}/`,
    liveTls: `https://${publicBind}:${ports.https}/`,
    staging: `http://${publicBind}:${ports.staging}/`,
    stats: `http://${gate}:${ports.stats}/stats`,
    metrics: `http://${gate}:${ports.stats}/metrics`,
    valkey: per(ports.valkey),
    sentinel: per(ports.sentinel),
  };
}

/** GET with a bound; resolves with status and body, rejects on errors. */
export function httpGet(
  url: string,
  timeoutMs = 2000,
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/** The message master as one node's Sentinel sees it (`SENTINEL GET-MASTER-ADDR-BY-NAME`). */
export async function sentinelMaster(lab: Lab, node: NodeName, timeoutMs = 1500): Promise<string | null> {
  const reply = await respCommand(
    {
      host: lab.address(node),
      port: lab.layout.ports.sentinel,
      username: USER_NAMES.app,
      password: lab.layout.secrets.sentinelPassword,
      timeoutMs,
    },
    "SENTINEL",
    "GET-MASTER-ADDR-BY-NAME",
    lab.layout.sentinel.masterName,
  );
  return Array.isArray(reply) && reply.length === 2 ? `${String(reply[0])}:${String(reply[1])}` : null;
}

/** What `status` asks each monitoring unit that serves a port. */
const MONITORING_PROBES: Readonly<Record<string, string>> = {
  prometheus: "/-/ready",
  "prometheus-alertmanager": "/-/ready",
  "prometheus-node-exporter": "/metrics",
  "prometheus-redis-exporter": "/metrics",
};

async function serviceHealth(
  lab: Lab,
  node: NodeName,
  unit: string,
  port: number | null,
): Promise<[Health, string]> {
  const host = lab.address(node);
  const { ports, secrets } = lab.layout;
  try {
    if (unit === "haproxy") {
      const r = await httpGet(`http://${host}:${ports.stats}/stats;csv`);
      return r.status === 200
        ? ["ok", `stats answering on ${host}:${ports.stats}`]
        : ["failing", `stats: HTTP ${r.status}`];
    }
    if (unit === "valkey-server") {
      const password = node === tokenNode(lab.layout) ? secrets.users.tokenAdmin : secrets.users.messageAdmin;
      const role = await respCommand(
        { host, port: ports.valkey, username: USER_NAMES.admin, password },
        "ROLE",
      );
      return ["ok", `role ${Array.isArray(role) ? String(role[0]) : "unknown"}`];
    }
    if (unit === "valkey-sentinel") {
      const master = await sentinelMaster(lab, node);
      return master ? ["ok", `master ${master}`] : ["failing", "no master known"];
    }
    const probe = MONITORING_PROBES[unit];
    if (probe !== undefined && port !== null) {
      const r = await httpGet(`http://${host}:${port}${probe}`);
      return r.status === 200 ? ["ok", `${probe} answering`] : ["failing", `${probe}: HTTP ${r.status}`];
    }
    if (port !== null) {
      const r = await httpGet(`http://${host}:${port}/health`);
      return r.status === 200
        ? ["ok", r.body.trim().slice(0, 120)]
        : ["failing", `/health: HTTP ${r.status}`];
    }
    return ["ok", "running"];
  } catch (err) {
    return ["failing", (err as Error).message];
  }
}

export async function status(lab: Lab): Promise<LabStatus> {
  const nodes: NodeStatus[] = [];
  for (const node of nodeNames(lab.layout)) {
    const services: ServiceStatus[] = [];
    for (const s of nodeServices(lab.layout, node)) {
      const pid = lab.pid(node, s.unit);
      const [health, detail] =
        pid === null
          ? (["stopped", "not running"] as [Health, string])
          : await serviceHealth(lab, node, s.unit, s.port);
      services.push({ name: s.name, unit: s.unit, port: s.port, pid, health, detail });
    }
    nodes.push({ name: node, address: lab.address(node), root: lab.root(node), services });
  }
  const views = {} as Record<NodeName, string | null>;
  for (const node of nodeNames(lab.layout)) {
    views[node] = await sentinelMaster(lab, node).catch(() => null);
  }
  const counts = new Map<string, number>();
  for (const v of Object.values(views)) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const messageMaster = best
    ? {
        address: best.split(":")[0] ?? "",
        port: Number(best.split(":")[1]),
        node: lab.nodeOf(best.split(":")[0] ?? ""),
      }
    : null;
  return {
    schema: "yquant-lab-status/1",
    labDir: lab.dir,
    activeColor: await lab.activeColor(),
    messageMaster,
    sentinelViews: views,
    endpoints: endpoints(lab),
    nodes,
  };
}

/** Plain-text table of a status. */
export function formatStatus(s: LabStatus): string {
  const lines = [
    `lab ${s.labDir}`,
    `active color: ${s.activeColor ?? "unknown"}   message master (Sentinel): ${
      s.messageMaster
        ? `${s.messageMaster.node ?? "?"} ${s.messageMaster.address}:${s.messageMaster.port}`
        : "unknown"
    }`,
    "",
    `${"node".padEnd(6)} ${"address".padEnd(11)} ${"service".padEnd(14)} ${"port".padStart(5)} ${"pid".padStart(8)}  ${"health".padEnd(8)} detail`,
  ];
  for (const n of s.nodes) {
    for (const svc of n.services) {
      lines.push(
        `${n.name.padEnd(6)} ${n.address.padEnd(11)} ${svc.name.padEnd(14)} ${String(svc.port ?? "-").padStart(5)} ${String(svc.pid ?? "-").padStart(8)}  ${svc.health.padEnd(8)} ${svc.detail.replace(/\s+/g, " ").slice(0, 70)}`,
      );
    }
  }
  return lines.join("\n");
}

/** The endpoint table `up` ends with. */
export function formatEndpoints(lab: Lab): string {
  const e = endpoints(lab);
  const active = lab.activeColorOnDisk() ?? "blue";
  const other = otherColor(active);
  const rows: [string, string][] = [
    ["live (HTTP)", e.live],
    ["live (HTTPS, self-signed)", e.liveTls],
    ["staging (standby)", e.staging],
    ["stats", e.stats],
    ["metrics", e.metrics],
    ...nodeNames(lab.layout).map((n): [string, string] => [
      `${n} valkey / sentinel`,
      `${e.valkey[n]} / ${e.sentinel[n]}`,
    ]),
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  return [
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    "",
    `  active color: ${active}. Passwords: ${path.join(lab.dir, "secrets.json")}`,
    `  switch colors: npm run lab -- switch ${other}      (status: npm run lab -- status)`,
  ].join("\n");
}

export { sleep };
