/**
 * The four kinds of writer the Valkey scenarios run against the message store, each writing its own
 * numbered keys one at a time, as an app that records orders would:
 *
 * - `sentinel`: Sentinel-aware (the three Sentinels, as the apps connect), acknowledged on `OK`;
 * - `sentinelWait`: the same, acknowledged only when `WAIT 1` then reports one replica;
 * - `pinned`: connected to one address (the master at the start) and never re-resolving it;
 * - `pinnedWait`: the same with `WAIT 1`.
 *
 * A write that got an error or no answer is not acknowledged; the writer goes on with the next key.
 * `lost` counts acknowledged keys that the message master does not hold afterwards.
 */
import Valkey from "iovalkey";
import { BOOTSTRAP_MESSAGE_MASTER, NodeName } from "../../cloud-init/layout";
import { Lab } from "../lab";
import { sleep } from "../poll";
import {
  Figures,
  ScenarioContext,
  SentinelWriter,
  appTarget,
  baseline,
  figure,
  valkeyTarget,
} from "./common";

export const WRITER_KINDS = ["sentinel", "sentinelWait", "pinned", "pinnedWait"] as const;
export type WriterKind = (typeof WRITER_KINDS)[number];

/** How long a writer waits for `WAIT 1` (ms): a write whose replica did not confirm in time is not acknowledged. */
export const WAIT_TIMEOUT_MS = 1000;

export interface WriterResult {
  readonly kind: WriterKind;
  /** Keys attempted. */
  readonly attempts: number;
  /** Indexes of the acknowledged keys. */
  readonly acked: number[];
  /** Acknowledgement times (performance.now()). */
  readonly ackTimes: number[];
  /** Error messages by their first word (READONLY, NOREPLICAS, timeout, ...), with counts. */
  readonly errors: Record<string, number>;
}

/**
 * A client of the apps' user connected to `node`'s message Valkey alone (it never asks a Sentinel),
 * that fails a write at once instead of queueing it while disconnected.
 */
export function pinnedClient(lab: Lab, node: NodeName, commandTimeoutMs = 2000): Valkey {
  const t = appTarget(lab, node);
  const c = new Valkey({
    host: t.host,
    port: t.port,
    username: t.username,
    password: t.password,
    enableOfflineQueue: false,
    // The apps' user may not run INFO (the ready check); a write that fails is simply not acknowledged.
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 500,
    commandTimeout: commandTimeoutMs,
    retryStrategy: () => 50,
    lazyConnect: true,
  });
  c.on("error", () => undefined);
  c.connect().catch(() => undefined);
  return c;
}

/** One running writer: `stop()` ends its loop and resolves with what it saw. */
export class Writer {
  private stopped = false;
  private readonly done: Promise<WriterResult>;

  constructor(
    lab: Lab,
    readonly kind: WriterKind,
    readonly prefix: string,
    pinnedTo: NodeName,
  ) {
    this.done = this.loop(lab, pinnedTo);
  }

  private async loop(lab: Lab, pinnedTo: NodeName): Promise<WriterResult> {
    const wait = this.kind === "sentinelWait" || this.kind === "pinnedWait";
    const sentinel = this.kind.startsWith("sentinel") ? new SentinelWriter(lab) : null;
    const pinned = sentinel === null ? pinnedClient(lab, pinnedTo) : null;
    const run = <T>(fn: (c: Valkey) => Promise<T>): Promise<T> =>
      sentinel ? sentinel.with(fn) : fn(pinned as Valkey);
    const acked: number[] = [];
    const ackTimes: number[] = [];
    const errors: Record<string, number> = {};
    let i = 0;
    try {
      while (!this.stopped) {
        const n = i;
        i += 1;
        try {
          const ok = await run(async (c) => {
            await c.set(`${this.prefix}:${n}`, String(n));
            if (!wait) return true;
            return Number(await c.call("WAIT", "1", String(WAIT_TIMEOUT_MS))) >= 1;
          });
          if (ok) {
            acked.push(n);
            ackTimes.push(performance.now());
          } else errors["WAIT-0"] = (errors["WAIT-0"] ?? 0) + 1;
        } catch (err) {
          const word = (err as Error).message.split(/[\s:]/)[0] || "error";
          errors[word] = (errors[word] ?? 0) + 1;
          await sleep(10);
        }
      }
    } finally {
      sentinel?.close();
      pinned?.disconnect();
    }
    return { kind: this.kind, attempts: i, acked, ackTimes, errors };
  }

  stop(): Promise<WriterResult> {
    this.stopped = true;
    return this.done;
  }
}

/** Starts one writer of each kind, the pinned ones on `pinnedTo`. */
export function startWriters(lab: Lab, tag: string, pinnedTo: NodeName): Writer[] {
  return WRITER_KINDS.map((kind) => new Writer(lab, kind, `${tag}:${kind}`, pinnedTo));
}

/**
 * Restores the baseline, then starts one writer of each kind, the pinned ones on the baseline's
 * master, and lets them write for `warmupMs`. The tag is `<prefix>-<time>`: a run's keys are its own.
 */
export async function writersFromBaseline(
  ctx: ScenarioContext,
  prefix: string,
  warmupMs: number,
): Promise<{ tag: string; writers: Writer[] }> {
  await baseline(ctx.lab, ctx.log);
  const tag = `${prefix}-${Date.now().toString(36)}`;
  const writers = startWriters(ctx.lab, tag, BOOTSTRAP_MESSAGE_MASTER);
  await sleep(warmupMs);
  return { tag, writers };
}

/** How many of a writer's acknowledged keys `node` does not hold. */
export async function countLost(
  lab: Lab,
  node: NodeName,
  prefix: string,
  acked: readonly number[],
): Promise<number> {
  return (await lostKeys(lab, node, prefix, acked)).length;
}

/**
 * Adds, for each writer, its acknowledged writes, those `node` does not hold (goal 0) and its refused
 * writes, then the total lost of all of them (goal 0), and logs one line per writer. Returns the total.
 */
export async function addLossFigures(
  figures: Figures,
  lab: Lab,
  node: NodeName,
  tag: string,
  results: readonly WriterResult[],
  log: (line: string) => void,
): Promise<number> {
  let lostTotal = 0;
  for (const r of results) {
    const lost = await countLost(lab, node, `${tag}:${r.kind}`, r.acked);
    lostTotal += lost;
    log(
      `scenario: ${r.kind}: ${r.acked.length} acknowledged of ${r.attempts}, ${lost} lost, errors: ${formatErrors(r.errors)}`,
    );
    figures.add(figure(`${r.kind}Acked`, `${r.kind} writer: acknowledged writes`, r.acked.length, "writes"));
    figures.add(
      figure(
        `${r.kind}Lost`,
        `${r.kind} writer: acknowledged writes missing on ${node}`,
        lost,
        "writes",
        "0",
        lost === 0,
      ),
    );
    figures.add(figure(`${r.kind}Errors`, `${r.kind} writer: refused writes`, formatErrors(r.errors), ""));
  }
  figures.add(
    figure(
      "lostAcked",
      `acknowledged writes lost, all ${results.length} writers`,
      lostTotal,
      "writes",
      "0",
      lostTotal === 0,
    ),
  );
  return lostTotal;
}

/** Runs `use` with a client of the admin user connected to `node`'s message Valkey alone. */
async function withAdminClient<T>(lab: Lab, node: NodeName, use: (c: Valkey) => Promise<T>): Promise<T> {
  const t = valkeyTarget(lab, node, 5000);
  const c = new Valkey({
    host: t.host,
    port: t.port,
    username: t.username,
    password: t.password,
    lazyConnect: true,
  });
  c.on("error", () => undefined);
  try {
    await c.connect();
    return await use(c);
  } finally {
    c.disconnect();
  }
}

/** The positions in `acked` of the keys `node` does not hold. */
export async function lostKeys(
  lab: Lab,
  node: NodeName,
  prefix: string,
  acked: readonly number[],
): Promise<number[]> {
  return withAdminClient(lab, node, async (c) => {
    const missing: number[] = [];
    for (let i = 0; i < acked.length; i += 500) {
      const keys = acked.slice(i, i + 500).map((n) => `${prefix}:${n}`);
      const values = await c.mget(...keys);
      values.forEach((v, j) => {
        if (v === null) missing.push(i + j);
      });
    }
    return missing;
  });
}

/**
 * Deletes a writer's keys (`<prefix>:0` to `<prefix>:<attempts - 1>`) on `node`: each fault run
 * writes hundreds of thousands, and the lab's store is bounded by its maxmemory (noeviction), so
 * repeated runs would end in OOM refusals.
 */
export async function dropKeys(lab: Lab, node: NodeName, prefix: string, attempts: number): Promise<void> {
  await withAdminClient(lab, node, async (c) => {
    for (let i = 0; i < attempts; i += 1000) {
      const keys = Array.from({ length: Math.min(1000, attempts - i) }, (_, j) => `${prefix}:${i + j}`);
      await c.unlink(...keys);
    }
  });
}

/** Longest gap between consecutive acknowledgements inside [from, to] (ms, rounded). */
export function longestGap(ackTimes: readonly number[], from: number, to: number): number {
  const inside = [from, ...ackTimes.filter((t) => t >= from && t <= to), to];
  let gap = 0;
  for (let i = 1; i < inside.length; i += 1)
    gap = Math.max(gap, (inside[i] as number) - (inside[i - 1] as number));
  return Math.round(gap);
}

/** `KIND: n READONLY, m timeout` summary of a writer's errors. */
export function formatErrors(errors: Record<string, number>): string {
  const parts = Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${v} ${k}`);
  return parts.length > 0 ? parts.join(", ") : "none";
}
