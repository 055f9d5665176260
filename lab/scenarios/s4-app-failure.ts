/**
 * Scenario 4, app failure: SIGKILL the active app (blue) under a GET/POST mix. Each POST carries a
 * unique order id that the placeholder app appends to <root>/var/lib/yquant/orders.log. Measures the
 * time until the standby serves, failed GETs and POSTs, and duplicated order ids across both logs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sleep, waitFor } from "../poll";
import { httpService } from "../services";
import { isOk, runLoad } from "../load";
import { Figures, ScenarioContext, baseline, figure, ms, waitServerUp } from "./common";

export interface AppFailureOptions {
  /** Concurrent clients. Default 32. */
  readonly concurrency?: number;
  /** Share of POSTs. Default 0.25. */
  readonly postShare?: number;
  /** Load before the kill, ms. Default 1500. */
  readonly beforeMs?: number;
  /** Load after the kill, ms. Default 3000. */
  readonly afterMs?: number;
}

function ordersLog(root: string): string {
  return path.join(root, "var/lib/yquant/orders.log");
}

function readOrders(file: string): string[] {
  try {
    return fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => l.split(" ")[0] ?? "");
  } catch {
    return [];
  }
}

export async function appFailure(ctx: ScenarioContext, options: AppFailureOptions = {}): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const unit = `yquant-${httpService(lab.layout)}`;
  const prefix = `s4-${Date.now().toString(36)}`;
  const beforeMs = options.beforeMs ?? 1500;
  const afterMs = options.afterMs ?? 3000;
  let killedAt = Infinity;
  const load = runLoad({
    baseUrl: lab.liveUrl(""),
    concurrency: options.concurrency ?? 32,
    total: Number.MAX_SAFE_INTEGER,
    maxMs: 60_000,
    postShare: options.postShare ?? 0.25,
    idPrefix: prefix,
    stop: () => performance.now() > killedAt + afterMs,
  });
  await sleep(beforeMs);
  const pid = lab.pid("blue", unit);
  log(`scenario 4: SIGKILL blue/${unit} (pid ${pid}) under load`);
  killedAt = lab.killNow("blue", unit) ?? performance.now();
  const { records } = await load;

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
  const ids = [
    ...readOrders(ordersLog(lab.root("blue"))),
    ...readOrders(ordersLog(lab.root("green"))),
  ].filter((id) => id.startsWith(`${prefix}-`));
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  const duplicated = [...counts.values()].filter((c) => c > 1).length;
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
  figures.add(
    figure(
      "failedPostsOutside",
      "failed POSTs not caught by the crash",
      failedOutside,
      "requests",
      "0",
      failedOutside === 0,
    ),
  );
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
