/**
 * Scenario 11, interrupted promotion: promote-master.sh green is SIGKILLed right after each of its
 * steps (paused, caught-up, failover-sent, promoted; the script's YQ_PROMOTE_KILL_AT hook) under the
 * four writers, then run again. Each time the re-run must exit 0 with green the master, blue its
 * replica, no engine paused, and no acknowledged write lost. Last, a kill after failover-sent with no
 * re-run, reported (no goal): Sentinel cannot reconfigure a paused master (its own commands wait
 * too), so it demotes the old master only about 10 s after the pause ends, and writes acknowledged by
 * the old master meanwhile are lost; docs/valkey.md says what bounds that.
 */
import { Lab } from "../lab";
import { sleep, waitFor } from "../poll";
import { Figures, ScenarioContext, agreedMaster, baseline, figure, valkeyRole } from "./common";
import { isPaused } from "./s10-planned-master-move";
import { countLost, formatErrors, writersFromBaseline } from "./writers";

export const PROMOTE_STEPS = ["paused", "caught-up", "failover-sent", "promoted"] as const;

/** The pause promote-master.sh sets by default (ms): it bounds a killed run's write stall. */
export const DEFAULT_PAUSE_TIMEOUT_MS = 15_000;

/** How long the Sentinels get to agree after a re-run exits 0 (two hello periods and slack). */
const AGREEMENT_WAIT_MS = 5_000;

async function killedRun(lab: Lab, step: string) {
  return lab.runScript("gate", "promote-master", ["green"], 60_000, {
    ...process.env,
    YQ_PROMOTE_KILL_AT: step,
  });
}

export async function interruptedPromotion(ctx: ScenarioContext): Promise<Figures> {
  const { lab, log } = ctx;
  const figures = new Figures();
  for (const step of PROMOTE_STEPS) {
    const { tag, writers } = await writersFromBaseline(ctx, `s11-${step}`, 500);
    const killed = await killedRun(lab, step);
    const pausedAfterKill = await isPaused(lab, "blue");
    const rerun = await lab.runScript("gate", "promote-master", ["green"], 60_000);
    const role = await valkeyRole(lab, "blue");
    // The re-run returns once the gate's Sentinel names green; the engines' Sentinels learn it from
    // the next hello message (every 2 s), so agreement is awaited (bounded), not sampled once.
    const master =
      rerun.status === 0
        ? ((await waitFor(
            async () => ((await agreedMaster(lab)) === "green" ? ("green" as const) : undefined),
            AGREEMENT_WAIT_MS,
            100,
          )) ?? (await agreedMaster(lab)))
        : await agreedMaster(lab);
    await sleep(1000);
    const results = await Promise.all(writers.map((w) => w.stop()));
    let lost = 0;
    for (const r of results) lost += await countLost(lab, "green", `${tag}:${r.kind}`, r.acked);
    const paused = (await isPaused(lab, "blue")) || (await isPaused(lab, "green"));
    const converged = rerun.status === 0 && master === "green" && role === "slave";
    // A re-run that did not converge says why: its own message, the Sentinels' view, blue's role.
    const why = converged
      ? ""
      : ` NOT CONVERGED (agreed master ${master ?? "none"}, blue role ${role ?? "no answer"}; re-run stderr: ${rerun.stderr.trim() || "-"}; killed run: ${(killed.stdout + killed.stderr).trim().replace(/\n/g, " | ")})`;
    log(
      `scenario: killed after ${step} (exit ${killed.status}, blue paused: ${pausedAfterKill}); re-run exit ${rerun.status}: ` +
        `${rerun.stdout.trim().split("\n").at(-1) ?? ""}; lost ${lost}; errors ${results.map((r) => `${r.kind} ${formatErrors(r.errors)}`).join("; ")}${why}`,
    );
    figures.add(
      figure(
        `${step}Killed`,
        `killed after ${step}: the run did not finish`,
        killed.status !== 0,
        "",
        "true",
        killed.status !== 0,
      ),
    );
    figures.add(
      figure(
        `${step}Converged`,
        `killed after ${step}: re-run exit 0, green master, blue replica`,
        converged,
        "",
        "true",
        converged,
      ),
    );
    figures.add(
      figure(
        `${step}LeftPaused`,
        `killed after ${step}: an engine paused after the re-run`,
        paused,
        "",
        "false",
        !paused,
      ),
    );
    figures.add(
      figure(
        `${step}Lost`,
        `killed after ${step}: acknowledged writes lost (4 writers)`,
        lost,
        "writes",
        "0",
        lost === 0,
      ),
    );
  }

  // No re-run: the killed run's pause must outlast Sentinel's own demotion of the old master.
  const { tag, writers } = await writersFromBaseline(ctx, "s11-norerun", 500);
  const killed = await killedRun(lab, "failover-sent");
  const demoted = await waitFor(
    async () => ((await valkeyRole(lab, "blue")) === "slave" ? performance.now() : undefined),
    DEFAULT_PAUSE_TIMEOUT_MS + 20_000,
    50,
  );
  const demotedAfterMs = demoted !== undefined ? Math.round(demoted - killed.endedAt) : null;
  await waitFor(
    async () => ((await isPaused(lab, "blue")) ? undefined : true),
    DEFAULT_PAUSE_TIMEOUT_MS + 5000,
    200,
  );
  await sleep(1000);
  const results = await Promise.all(writers.map((w) => w.stop()));
  let lost = 0;
  for (const r of results) lost += await countLost(lab, "green", `${tag}:${r.kind}`, r.acked);
  log(
    `scenario: killed after failover-sent, no re-run: Sentinel demoted blue after ${demotedAfterMs} ms; lost ${lost}`,
  );
  figures.add(
    figure(
      "noRerunDemotedAfterMs",
      "killed after failover-sent, no re-run: Sentinel demotes the old master after",
      demotedAfterMs,
      "ms",
      `< ${DEFAULT_PAUSE_TIMEOUT_MS} (the pause)`,
      demotedAfterMs !== null && demotedAfterMs < DEFAULT_PAUSE_TIMEOUT_MS,
    ),
  );
  figures.add(
    figure(
      "noRerunLost",
      "killed after failover-sent, no re-run: acknowledged writes lost",
      lost,
      "writes",
      "0",
      lost === 0,
    ),
  );
  await baseline(lab, log);
  return figures;
}
