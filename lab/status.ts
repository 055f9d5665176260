/** `status`: every unit's pid and health, the live color, the message master, and the endpoints. */
import * as path from "node:path";
import { Color, NodeName, gateNode, nodeNames, otherColor, tokenNode } from "../cloud-init/layout";
import { MESSAGE_REPLICA_UNIT, USER_NAMES } from "../cloud-init/valkey";
import { Lab } from "./lab";
import { httpGet, sentinelMaster } from "./probes";
import { respCommand } from "./resp";
import { nodeServices } from "./services";

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
    if (unit === MESSAGE_REPLICA_UNIT) {
      const role = await respCommand(
        { host, port: ports.replica, username: USER_NAMES.admin, password: secrets.users.messageAdmin },
        "ROLE",
      );
      return Array.isArray(role) && role[0] === "slave"
        ? ["ok", `replica of ${String(role[1])}:${String(role[2])}, ${String(role[3])}`]
        : ["failing", `role ${Array.isArray(role) ? String(role[0]) : "unknown"}, expected a replica`];
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
