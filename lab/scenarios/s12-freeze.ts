/**
 * Scenario 12, freeze of the active app: SIGSTOP blue's app (a hung process: the kernel still accepts
 * connections, nothing answers) under a GET/POST mix. A GET waits at most HAProxy's GET timeout per
 * attempt and is sent again, to green once blue's checks fail; a POST caught by the freeze gets a 504
 * after the server timeout and is never sent to green. See docs/architecture.md, "Failure handling
 * and the timeouts' trade-off".
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sleep } from "../poll";
import { httpService } from "../services";
import { isOk, runLoad } from "../load";
import { Figures, ScenarioContext, baseline, figure, ms } from "./common";

export interface FreezeOptions {
  /** Concurrent clients. Default 32. */
  readonly concurrency?: number;
  /** Share of POSTs. Default 0.25. */
  readonly postShare?: number;
  /** Load before the freeze, ms. Default 1500. */
  readonly beforeMs?: number;
  /** Load after the freeze, ms. Default 6000. */
  readonly afterMs?: number;
}

/** The longest a GET may wait, and how fast a POST caught by the freeze must get its error. */
export const FREEZE_GET_GOAL_MS = 3000;
export const FREEZE_POST_ERROR_GOAL_MS = 4000;

function orderIds(root: string, prefix: string): string[] {
  try {
    return fs
      .readFileSync(path.join(root, "var/lib/yquant/orders.log"), "utf8")
      .split("\n")
      .map((l) => l.split(" ")[0] ?? "")
      .filter((id) => id.startsWith(`${prefix}-`));
  } catch {
    return [];
  }
}

export async function freezeActive(ctx: ScenarioContext, options: FreezeOptions = {}): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const unit = `yquant-${httpService(lab.layout)}`;
  const prefix = `s12-${Date.now().toString(36)}`;
  const afterMs = options.afterMs ?? 6000;
  let frozenAt = Infinity;
  const load = runLoad({
    baseUrl: lab.liveUrl(""),
    concurrency: options.concurrency ?? 32,
    total: Number.MAX_SAFE_INTEGER,
    maxMs: 60_000,
    postShare: options.postShare ?? 0.25,
    idPrefix: prefix,
    requestTimeoutMs: 40_000,
    stop: () => performance.now() > frozenAt + afterMs,
  });
  let records: Awaited<typeof load>["records"];
  try {
    await sleep(options.beforeMs ?? 1500);
    log(`scenario 12: SIGSTOP blue/${unit} under load`);
    frozenAt = performance.now();
    lab.signal("blue", unit, "SIGSTOP");
    records = (await load).records;
  } finally {
    lab.signal("blue", unit, "SIGCONT");
  }
  // Blue, thawed, works off what reached it while frozen: those orders land in its log now.
  await sleep(1500);

  const gets = records.filter((r) => r.method === "GET");
  const posts = records.filter((r) => r.method === "POST");
  const failedGets = gets.filter((r) => !isOk(r)).length;
  const longestGet = gets.reduce((m, r) => Math.max(m, r.end - r.start), 0);
  const firstGreen = records
    .filter((r) => r.color === "green" && isOk(r) && r.end >= frozenAt)
    .reduce((best, r) => Math.min(best, r.end), Infinity);
  // Caught by the freeze: still waiting at the freeze, or sent after it before green served.
  const caught = (r: (typeof posts)[number]): boolean => r.end >= frozenAt && r.start < firstGreen;
  const failedPosts = posts.filter((r) => !isOk(r));
  const failedOutside = failedPosts.filter((r) => !caught(r)).length;
  const slowestPostError = failedPosts.reduce((m, r) => Math.max(m, r.end - r.start), 0);
  const blueIds = orderIds(lab.root("blue"), prefix);
  const greenIds = new Set(orderIds(lab.root("green"), prefix));
  const failedIds = failedPosts.map((r) => r.id).filter((id): id is string => id !== null);
  const replayed = failedIds.filter((id) => greenIds.has(id)).length;
  const counts = new Map<string, number>();
  for (const id of [...blueIds, ...greenIds]) counts.set(id, (counts.get(id) ?? 0) + 1);
  const duplicated = [...counts.values()].filter((c) => c > 1).length;
  const executedAfterThaw = failedIds.filter((id) => blueIds.includes(id)).length;

  const figures = new Figures();
  const standbyMs = Number.isFinite(firstGreen) ? ms(frozenAt, firstGreen) : null;
  figures.add(
    figure("standbyServesMs", "freeze to first response from the standby (green)", standbyMs, "ms"),
  );
  figures.add(figure("gets", "GETs sent", gets.length, "requests"));
  figures.add(figure("failedGets", "failed GETs", failedGets, "requests", "0", failedGets === 0));
  figures.add(
    figure(
      "longestGetMs",
      "longest wait of a GET",
      Math.round(longestGet),
      "ms",
      `<= ${FREEZE_GET_GOAL_MS} ms`,
      longestGet <= FREEZE_GET_GOAL_MS,
    ),
  );
  figures.add(figure("posts", "POSTs sent", posts.length, "requests"));
  figures.add(
    figure("failedPosts", "POSTs caught by the freeze (answered 504)", failedPosts.length, "requests"),
  );
  figures.add(
    figure(
      "failedPostsOutside",
      "failed POSTs not caught by the freeze",
      failedOutside,
      "requests",
      "0",
      failedOutside === 0,
    ),
  );
  figures.add(
    figure(
      "slowestPostErrorMs",
      "slowest error of a POST caught by the freeze",
      Math.round(slowestPostError),
      "ms",
      `<= ${FREEZE_POST_ERROR_GOAL_MS} ms`,
      slowestPostError <= FREEZE_POST_ERROR_GOAL_MS,
    ),
  );
  figures.add(
    figure(
      "replayedPosts",
      "failed POSTs that green executed (a replay)",
      replayed,
      "ids",
      "0",
      replayed === 0,
    ),
  );
  figures.add(
    figure(
      "duplicatedPostIds",
      "order ids recorded more than once",
      duplicated,
      "ids",
      "0",
      duplicated === 0,
    ),
  );
  figures.add(
    figure("executedAfterThaw", "failed POSTs that blue executed once thawed", executedAfterThaw, "ids"),
  );
  await baseline(lab, log);
  return figures;
}
