/**
 * Scenario 2, drain: a client holding `SERVERID=blue` (the old color) keeps reaching blue while the
 * drain window runs, and reaches green once it has passed. New sessions go to green at once.
 */
import { httpGet } from "../probes";
import { sleep } from "../poll";
import { Figures, ScenarioContext, baseline, figure, ms, round } from "./common";

export interface DrainOptions {
  /** Drain window passed to switch-active.sh, seconds. Default 3. */
  readonly drainSeconds?: number;
  /** Requests with the old cookie after the window. Default 200. */
  readonly probesAfter?: number;
}

async function colorOf(url: string, cookie?: string): Promise<{ color: string | null; setCookie: string }> {
  const r = await httpGet(url, 3000, cookie ? { Cookie: cookie } : {});
  const setCookie = ([] as string[]).concat(r.headers["set-cookie"] ?? []).join("; ");
  return { color: /\b(blue|green)\b/.exec(r.body)?.[1] ?? null, setCookie };
}

export async function drain(ctx: ScenarioContext, options: DrainOptions = {}): Promise<Figures> {
  const { lab, log } = ctx;
  const window = options.drainSeconds ?? 3;
  const probesAfter = options.probesAfter ?? 200;
  await baseline(lab, log);
  const url = lab.liveUrl("/");

  // A session pinned to blue: the cookie HAProxy sets on a new session.
  const first = await colorOf(url);
  const cookieMatch = /SERVERID=([^;]+)/.exec(first.setCookie);
  const cookie = `SERVERID=${cookieMatch?.[1] ?? "blue"}`;
  log(`scenario 2: session cookie ${cookie}; switching to green with --drain ${window}`);

  // The switch returns at once; HAProxy honours the old cookie until the end time the switch wrote
  // (whole seconds from the command's start), then ends the drain by itself.
  const result = await lab.runScript("gate", "switch-active", ["green", "--drain", String(window)], 60_000);
  log(`scenario 2: switch exited ${result.status} after ${ms(result.startedAt, result.endedAt)} ms`);
  // Probes count as "during" only when answered before the earliest possible end of the window.
  const windowClosesNoEarlierThan = result.startedAt + (window - 1) * 1000;
  let during = 0;
  let duringOld = 0;
  let duringNewSessionsOnGreen = 0;
  let duringNewSessions = 0;
  while (performance.now() < windowClosesNoEarlierThan) {
    const probe = await colorOf(url, cookie);
    const fresh = await colorOf(url);
    if (performance.now() >= windowClosesNoEarlierThan) break;
    during += 1;
    if (probe.color === "blue") duringOld += 1;
    duringNewSessions += 1;
    if (fresh.color === "green") duringNewSessionsOnGreen += 1;
    await sleep(50);
  }
  // The latest possible end of the window: the command's start + window, plus HAProxy's 1 s clock.
  await sleep(Math.max(0, result.startedAt + (window + 1) * 1000 - performance.now()));

  let afterOld = 0;
  let reCookied = 0;
  for (let i = 0; i < probesAfter; i += 1) {
    const probe = await colorOf(url, cookie);
    if (probe.color === "blue") afterOld += 1;
    if (/SERVERID=green/.test(probe.setCookie)) reCookied += 1;
  }
  const figures = new Figures();
  figures.add(
    figure("switchExit", "switch-active.sh exit code", result.status, "", "0", result.status === 0),
  );
  figures.add(figure("drainWindowSeconds", "drain window", window, "s"));
  figures.add(
    figure(
      "switchReturnMs",
      "switch command duration (it never waits for the drain)",
      ms(result.startedAt, result.endedAt),
      "ms",
      `< ${window * 1000} ms`,
      result.endedAt - result.startedAt < window * 1000,
    ),
  );
  figures.add(
    figure("duringProbes", "old-cookie requests during the window", during, "requests", "> 0", during > 0),
  );
  figures.add(
    figure(
      "duringOldShare",
      "share of old-cookie requests on the old color during the window",
      during ? round((100 * duringOld) / during, 1) : null,
      "%",
      "100%",
      during > 0 && duringOld === during,
    ),
  );
  figures.add(
    figure(
      "duringNewSessionsOnNewShare",
      "share of new sessions on the new color during the window",
      duringNewSessions ? round((100 * duringNewSessionsOnGreen) / duringNewSessions, 1) : null,
      "%",
      "100%",
      duringNewSessions > 0 && duringNewSessionsOnGreen === duringNewSessions,
    ),
  );
  figures.add(figure("afterProbes", "old-cookie requests after the window", probesAfter, "requests"));
  figures.add(
    figure(
      "afterOldShare",
      "share of old-cookie requests still on the old color after the window",
      round((100 * afterOld) / probesAfter, 1),
      "%",
      "0%",
      afterOld === 0,
    ),
  );
  figures.add(
    figure(
      "afterReCookiedShare",
      "share of those answered with a new SERVERID=green cookie",
      round((100 * reCookied) / probesAfter, 1),
      "%",
    ),
  );
  await baseline(lab, log);
  return figures;
}
