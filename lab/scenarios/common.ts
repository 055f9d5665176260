/**
 * What every scenario shares: figures, the baseline it starts from and restores (everything running
 * and healthy, the active color, the message master), and probes of HAProxy and Valkey.
 */
import {
  BOOTSTRAP_MESSAGE_MASTER,
  Color,
  NodeName,
  isColor,
  messageReplicaNodes,
  nodeNames,
  otherColor,
  tokenNode,
} from "../../cloud-init/layout";
import { Lab } from "../lab";
import { sleep, waitFor } from "../poll";
import { nodeServices } from "../services";
import { thawAll } from "../lifecycle";
import { httpGet, sentinelMaster } from "../probes";
import { healAll } from "../partition";
import { respCommand } from "../resp";
import { USER_NAMES } from "../../cloud-init/valkey";

// The apps' kind of client lives in its own file; scenarios import it from here with the rest.
export { SentinelWriter, clientPeer, sentinelClient } from "./sentinel-client";

/** One measured figure. */
export interface Figure {
  /** Stable key, e.g. `failedRequests`. */
  readonly key: string;
  /** What it is, for people. */
  readonly name: string;
  readonly value: number | string | boolean | null;
  readonly unit: string;
  /** Human-readable goal, e.g. "0", "<= 100 ms", or "report". */
  readonly goal: string;
  /** Whether the value meets the goal; null when the figure is reported without a pass/fail goal. */
  readonly met: boolean | null;
}

export function figure(
  key: string,
  name: string,
  value: number | string | boolean | null,
  unit: string,
  goal = "report",
  met: boolean | null = null,
): Figure {
  return { key, name, value, unit, goal, met };
}

/** The figures of one scenario, keyed for tests. */
export class Figures {
  readonly list: Figure[] = [];

  add(...figures: Figure[]): void {
    this.list.push(...figures);
  }

  get(key: string): Figure["value"] {
    const f = this.list.find((x) => x.key === key);
    if (!f) throw new Error(`no figure ${key}`);
    return f.value;
  }
}

export type ScenarioLog = (line: string) => void;

export interface ScenarioContext {
  readonly lab: Lab;
  readonly log: ScenarioLog;
}

export const ms = (a: number, b: number): number => Math.round((b - a) * 10) / 10;

/** Rounds to `digits` decimals. */
export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// HAProxy

/** Status of a server of a backend from the stats CSV (e.g. "UP", "DOWN", "MAINT"), or null. */
export async function haproxyServerStatus(lab: Lab, backend: string, server: string): Promise<string | null> {
  const r = await httpGet(`http://${lab.address("gate")}:${lab.layout.ports.stats}/stats;csv`, 2000);
  for (const line of r.body.split("\n")) {
    const cols = line.split(",");
    if (cols[0] === backend && cols[1] === server) return cols[17] ?? null;
  }
  return null;
}

/** Waits until HAProxy reports `color` UP in the live backend. */
export async function waitServerUp(lab: Lab, color: Color, timeoutMs = 30_000): Promise<void> {
  const ok = await waitFor(
    async () =>
      (await haproxyServerStatus(lab, `yquant_live_${color}`, color))?.startsWith("UP") ? true : undefined,
    timeoutMs,
    100,
  );
  if (!ok) throw new Error(`HAProxy does not report ${color} UP after ${timeoutMs / 1000}s`);
}

/** Which color serves a new session on the live port now. */
export async function liveColor(lab: Lab): Promise<string | null> {
  const r = await httpGet(lab.liveUrl("/"), 2000);
  return /\b(blue|green)\b/.exec(r.body)?.[1] ?? null;
}

// ---------------------------------------------------------------------------------------------
// Valkey

/** How a lab client reaches one Valkey or Sentinel: the node's own address, one user of that server. */
function target(
  lab: Lab,
  node: NodeName,
  port: number,
  username: string,
  password: string,
  timeoutMs: number,
) {
  return { host: lab.address(node), port, username, password, timeoutMs };
}

/** A node's Valkey as the operations scripts reach it: its store's admin user (ROLE, INFO, ...). */
export function valkeyTarget(lab: Lab, node: NodeName, timeoutMs = 1500) {
  const { users } = lab.layout.secrets;
  const password = node === tokenNode(lab.layout) ? users.tokenAdmin : users.messageAdmin;
  return target(lab, node, lab.layout.ports.valkey, USER_NAMES.admin, password, timeoutMs);
}

/** The message store's never-promoted replica on `node` (the gate), as the scripts reach it. */
export function replicaTarget(lab: Lab, node: NodeName, timeoutMs = 1500) {
  const password = lab.layout.secrets.users.messageAdmin;
  return target(lab, node, lab.layout.ports.replica, USER_NAMES.admin, password, timeoutMs);
}

/** A node's Valkey as the apps reach it: the `app` user of that store (token on the gate). */
export function appTarget(lab: Lab, node: NodeName, timeoutMs = 1500) {
  const { secrets } = lab.layout;
  const password = node === tokenNode(lab.layout) ? secrets.users.tokenApp : secrets.valkeyPassword;
  return target(lab, node, lab.layout.ports.valkey, USER_NAMES.app, password, timeoutMs);
}

/** A node's Sentinel as the operations scripts reach it (admin user). */
export function sentinelAdminTarget(lab: Lab, node: NodeName, timeoutMs = 1500) {
  const password = lab.layout.secrets.users.sentinelAdmin;
  return target(lab, node, lab.layout.ports.sentinel, USER_NAMES.admin, password, timeoutMs);
}

/** `ROLE` of a node's Valkey: "master", "slave", or null when it does not answer. */
export async function valkeyRole(lab: Lab, node: NodeName): Promise<string | null> {
  try {
    const reply = await respCommand(valkeyTarget(lab, node, 1000), "ROLE");
    return Array.isArray(reply) ? String(reply[0]) : null;
  } catch {
    return null;
  }
}

/** The engine that every answering Sentinel names as master (null when they disagree or none answers). */
export async function agreedMaster(
  lab: Lab,
  nodes: readonly NodeName[] = nodeNames(lab.layout),
): Promise<NodeName | null> {
  const views = await Promise.all(nodes.map((n) => sentinelMaster(lab, n).catch(() => null)));
  const answered = views.filter((v): v is string => v !== null);
  if (answered.length === 0 || new Set(answered).size !== 1) return null;
  return lab.nodeOf((answered[0] as string).split(":")[0] ?? "");
}

/** The agreed message master as a color: the bootstrap master when the Sentinels do not agree. */
export async function agreedMasterColor(lab: Lab): Promise<Color> {
  const master = await agreedMaster(lab);
  return master !== null && isColor(master) ? master : BOOTSTRAP_MESSAGE_MASTER;
}

/** Retries `fn` until it resolves or `timeoutMs` passes; throws the last error then. */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (performance.now() >= deadline) throw err;
      await sleep(intervalMs);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Baseline

/** Every unit of every node running (thawed, no node cut off), every health-check.sh passing. */
export async function ensureAllRunning(lab: Lab, log: ScenarioLog, timeoutMs = 90_000): Promise<void> {
  thawAll(lab);
  healAll(lab.layout);
  for (const node of nodeNames(lab.layout)) {
    for (const s of nodeServices(lab.layout, node)) {
      if (lab.pid(node, s.unit) === null) {
        log(`restore: starting ${node}/${s.unit}`);
        await lab.start(node, s.unit);
      }
    }
  }
  for (const node of nodeNames(lab.layout)) {
    let last = "";
    const ok = await waitFor(
      async () => {
        const r = await lab.runScript(node, "health-check", [], 30_000);
        last = r.stdout + r.stderr;
        return r.status === 0 ? true : undefined;
      },
      timeoutMs,
      250,
    );
    if (!ok) throw new Error(`restore: ${node} not healthy:\n${last}`);
  }
}

/** Puts `color` in force (switch without drain) when it is not the active color. */
export async function ensureActive(lab: Lab, color: Color, log: ScenarioLog): Promise<void> {
  if ((await lab.activeColor()) !== color) {
    log(`restore: switching live traffic back to ${color}`);
    const r = await lab.runScript("gate", "switch-active", [color, "--drain", "0"], 60_000);
    if (r.status !== 0) throw new Error(`restore: switch to ${color} failed: ${r.stderr.trim()}`);
  }
  await waitServerUp(lab, color);
  const served = await waitFor(async () => ((await liveColor(lab)) === color ? true : undefined), 10_000);
  if (!served) throw new Error(`restore: live traffic is not served by ${color}`);
}

/**
 * Makes `color` the message master again with the gate's promote-master.sh (the lossless move the
 * switch uses) when the Sentinels name another one, and waits until every Sentinel agrees and the
 * replica is in sync. A refusal (the replica still syncing after a failure) is retried.
 */
export async function ensureMaster(
  lab: Lab,
  color: Color,
  log: ScenarioLog,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    const master = await agreedMaster(lab);
    if (
      master === color &&
      (await valkeyRole(lab, color)) === "master" &&
      (await replicaOutOfSync(lab, color)) === null
    )
      return;
    if (master !== null && master !== color) {
      const r = await lab.runScript("gate", "promote-master", [color], 60_000);
      last = (r.stdout + r.stderr).trim();
      log(`restore: promote-master.sh ${color}: exit ${r.status}: ${last.split("\n").at(-1) ?? ""}`);
    }
    await sleep(500);
  }
  throw new Error(`restore: message master is not ${color} after ${timeoutMs / 1000}s (${last})`);
}

/**
 * The first replica of the message store (the other engine's, then the gate's never-promoted one)
 * that does not replicate `master` with its link up and no sync in progress, described with its
 * INFO replication; null when every one is in sync.
 */
export async function replicaOutOfSync(lab: Lab, master: Color): Promise<string | null> {
  const targets = [
    { name: otherColor(master), target: valkeyTarget(lab, otherColor(master)) },
    ...messageReplicaNodes(lab.layout).map((n) => ({ name: `${n} replica`, target: replicaTarget(lab, n) })),
  ];
  for (const { name, target } of targets) {
    const info = String(await respCommand(target, "INFO", "replication").catch(() => ""));
    if (
      !info.includes(`master_host:${lab.address(master)}\r\n`) ||
      !info.includes("master_link_status:up") ||
      !info.includes("master_sync_in_progress:0")
    )
      return `${name}: ${info.replace(/\r\n/g, " ").slice(0, 300)}`;
  }
  return null;
}

/** The state every scenario starts from and leaves behind. */
export async function baseline(lab: Lab, log: ScenarioLog): Promise<void> {
  await ensureAllRunning(lab, log);
  await ensureActive(lab, "blue", log);
  await ensureMaster(lab, "blue", log);
}
