/**
 * Scenario 4, app failure: SIGKILL the active app (blue) under a GET/POST mix. Each POST carries a
 * unique order id that the placeholder app appends to <root>/var/lib/yquant/orders.log. Measures the
 * time until the standby serves, failed GETs and POSTs, and duplicated order ids across both logs.
 */
import { waitFor } from "../poll";
import { httpService } from "../services";
import { isOk, runLoad } from "../load";
import { Figures, ScenarioContext, baseline, figure, ms, waitServerUp } from "./common";
import { MixedLoadOptions, failedPostsOutsideFigure, idCounts, loadAroundFault, orderIds } from "./orders";

export type AppFailureOptions = MixedLoadOptions;

export async function appFailure(ctx: ScenarioContext, options: AppFailureOptions = {}): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const unit = `yquant-${httpService(lab.layout)}`;
  const prefix = `s4-${Date.now().toString(36)}`;
  const { faultAt: killedAt, result } = await loadAroundFault(
    lab,
    prefix,
    { ...options, afterMs: options.afterMs ?? 3000 },
    () => {
      log(`scenario 4: SIGKILL blue/${unit} (pid ${lab.pid("blue", unit)}) under load`);
      return lab.killNow("blue", unit) ?? performance.now();
    },
  );
  const { records } = result;

  const gets = records.filter((r) => r.method === "GET");
  const posts = records.filter((r) => r.method === "POST");
  const failedGets = gets.filter((r) => !isOk(r)).length;
  const failedPosts = posts.filter((r) => !isOk(r));
  const firstGreen = records
    .filter((r) => r.color === "green" && isOk(r) && r.end >= killedAt)
    .reduce((best, r) => Math.min(best, r.end), Infinity);
  // Caught by the crash: in flight at the kill, or sent after it but before HAProxy had taken blue
  // out (the first response from green marks the end of that window).
  const inFlightPosts = posts.filter((r) => r.start < killedAt && r.end >= killedAt).length;
  const windowPosts = posts.filter((r) => r.start >= killedAt && r.start < firstGreen).length;
  const caught = (r: (typeof posts)[number]): boolean => r.end >= killedAt && r.start < firstGreen;
  const failedOutside = failedPosts.filter((r) => !caught(r)).length;
  if (process.env.YQ_LAB_DEBUG === "1") {
    for (const r of gets.filter((x) => !isOk(x)))
      console.log("failed GET", r.start - killedAt, r.end - killedAt, r.status, r.error);
    for (const r of failedPosts) {
      console.log("failed POST", r.start - killedAt, r.end - killedAt, r.status, r.error);
    }
  }

  // Order ids recorded by the apps: this run's prefix only.
  const { counts, duplicated } = idCounts([
    ...orderIds(lab, "blue", prefix),
    ...orderIds(lab, "green", prefix),
  ]);
  const acknowledged = posts.filter((r) => isOk(r) && r.id !== null);
  const acknowledgedMissing = acknowledged.filter((r) => !counts.has(r.id as string)).length;

  const figures = new Figures();
  const standbyMs = Number.isFinite(firstGreen) ? ms(killedAt, firstGreen) : null;
  figures.add(
    figure(
      "standbyServesMs",
      "kill to first response from the standby (green)",
      standbyMs,
      "ms",
      "<= 100 ms",
      standbyMs !== null && standbyMs <= 100,
    ),
  );
  figures.add(figure("gets", "GETs sent", gets.length, "requests"));
  figures.add(figure("failedGets", "failed GETs", failedGets, "requests", "0", failedGets === 0));
  figures.add(figure("posts", "POSTs sent", posts.length, "requests"));
  figures.add(figure("inFlightPosts", "POSTs in flight at the kill", inFlightPosts, "requests"));
  figures.add(
    figure("windowPosts", "POSTs sent after the kill, before the standby served", windowPosts, "requests"),
  );
  figures.add(
    figure(
      "failedPosts",
      "failed POSTs",
      failedPosts.length,
      "requests",
      "only those caught by the crash",
      failedOutside === 0,
    ),
  );
  figures.add(failedPostsOutsideFigure(failedOutside, "crash"));
  figures.add(
    figure(
      "duplicatedPostIds",
      "order ids recorded more than once (blue + green)",
      duplicated,
      "ids",
      "0",
      duplicated === 0,
    ),
  );
  figures.add(
    figure(
      "acknowledgedMissing",
      "acknowledged POSTs missing from both logs",
      acknowledgedMissing,
      "ids",
      "0",
      acknowledgedMissing === 0,
    ),
  );

  log(`scenario 4: starting blue/${unit} again`);
  await lab.start("blue", unit);
  await waitServerUp(lab, "blue", 30_000);
  const back = await waitFor(async () => {
    const r = await runLoad({ baseUrl: lab.liveUrl(""), concurrency: 1, total: 1, maxMs: 2000 });
    return r.records[0]?.color === "blue" ? true : undefined;
  }, 15_000);
  if (!back) throw new Error("scenario 4: blue does not serve live traffic again after its restart");
  await baseline(lab, log);
  return figures;
}
