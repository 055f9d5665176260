/**
 * Scenario 12, freeze of the active app: SIGSTOP blue's app (a hung process: the kernel still accepts
 * connections, nothing answers) under a GET/POST mix. A GET waits at most HAProxy's GET timeout per
 * attempt and is sent again, to green once blue's checks fail; a POST caught by the freeze gets a 504
 * after the server timeout and is never sent to green. See docs/architecture.md, "Failure handling
 * and the timeouts' trade-off".
 */
import { sleep } from "../poll";
import { httpService } from "../services";
import { isOk } from "../load";
import { Figures, ScenarioContext, baseline, figure, ms } from "./common";
import { MixedLoadOptions, failedPostsOutsideFigure, idCounts, loadAroundFault, orderIds } from "./orders";

export type FreezeOptions = MixedLoadOptions;

/** The longest a GET may wait, and how fast a POST caught by the freeze must get its error. */
export const FREEZE_GET_GOAL_MS = 3000;
export const FREEZE_POST_ERROR_GOAL_MS = 4000;

export async function freezeActive(ctx: ScenarioContext, options: FreezeOptions = {}): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const unit = `yquant-${httpService(lab.layout)}`;
  const prefix = `s12-${Date.now().toString(36)}`;
  let run: Awaited<ReturnType<typeof loadAroundFault>>;
  try {
    run = await loadAroundFault(
      lab,
      prefix,
      { ...options, afterMs: options.afterMs ?? 6000, requestTimeoutMs: 40_000 },
      () => {
        log(`scenario 12: SIGSTOP blue/${unit} under load`);
        const at = performance.now();
        lab.signal("blue", unit, "SIGSTOP");
        return at;
      },
    );
  } finally {
    lab.signal("blue", unit, "SIGCONT");
  }
  const { faultAt: frozenAt, result } = run;
  const { records } = result;
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
  const blueIds = orderIds(lab, "blue", prefix);
  const greenIds = new Set(orderIds(lab, "green", prefix));
  const failedIds = failedPosts.map((r) => r.id).filter((id): id is string => id !== null);
  const replayed = failedIds.filter((id) => greenIds.has(id)).length;
  const { duplicated } = idCounts([...blueIds, ...greenIds]);
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
  figures.add(failedPostsOutsideFigure(failedOutside, "freeze"));
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
