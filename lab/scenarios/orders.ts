/**
 * What the app fault scenarios (4, a killed app; 12, a frozen one) share: a GET/POST mix on the live
 * port whose POSTs carry order ids, the fault in its middle, and the order ids the apps recorded.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { NodeName } from "../../cloud-init/layout";
import { Lab } from "../lab";
import { LoadResult, runLoad } from "../load";
import { sleep } from "../poll";
import { Figure, figure } from "./common";

export interface MixedLoadOptions {
  /** Concurrent clients. Default 32. */
  readonly concurrency?: number;
  /** Share of POSTs. Default 0.25. */
  readonly postShare?: number;
  /** Load before the fault, ms. Default 1500. */
  readonly beforeMs?: number;
  /** Load after the fault, ms. Default: the scenario's own. */
  readonly afterMs?: number;
}

/**
 * Runs the mix with POST ids `<prefix>-…`, calls `fault` after `beforeMs`, and ends the load
 * `afterMs` after the moment `fault` returns (its performance.now() time). Resolves with both.
 */
export async function loadAroundFault(
  lab: Lab,
  prefix: string,
  options: MixedLoadOptions & { readonly afterMs: number; readonly requestTimeoutMs?: number },
  fault: () => number,
): Promise<{ readonly faultAt: number; readonly result: LoadResult }> {
  let faultAt = Infinity;
  const load = runLoad({
    baseUrl: lab.liveUrl(""),
    concurrency: options.concurrency ?? 32,
    total: Number.MAX_SAFE_INTEGER,
    maxMs: 60_000,
    postShare: options.postShare ?? 0.25,
    idPrefix: prefix,
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    stop: () => performance.now() > faultAt + options.afterMs,
  });
  await sleep(options.beforeMs ?? 1500);
  faultAt = fault();
  return { faultAt, result: await load };
}

/** The order ids of this run (`<prefix>-…`) that `node`'s app recorded, in the order it did. */
export function orderIds(lab: Lab, node: NodeName, prefix: string): string[] {
  try {
    return fs
      .readFileSync(path.join(lab.root(node), "var/lib/yquant/orders.log"), "utf8")
      .split("\n")
      .map((l) => l.split(" ")[0] ?? "")
      .filter((id) => id.startsWith(`${prefix}-`));
  } catch {
    return [];
  }
}

/** How often each id stands in `ids`, and how many ids stand more than once. */
export function idCounts(ids: readonly string[]): {
  readonly counts: Map<string, number>;
  readonly duplicated: number;
} {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return { counts, duplicated: [...counts.values()].filter((c) => c > 1).length };
}

/** Failed POSTs that the fault did not catch (sent and answered outside its window): the goal is 0. */
export function failedPostsOutsideFigure(count: number, fault: "crash" | "freeze"): Figure {
  return figure(
    "failedPostsOutside",
    `failed POSTs not caught by the ${fault}`,
    count,
    "requests",
    "0",
    count === 0,
  );
}
