/**
 * Scenario 1, switch under load: at least 20,000 requests at 32 concurrent keep-alive clients through
 * the live port while the gate's own switch-active.sh moves live traffic blue -> green, then
 * green -> blue. Every request is a new session (no cookie). Also samples the gate's memory
 * (scenario 8).
 */
import { Color } from "../../cloud-init/layout";
import { isOk, RequestRecord, runLoad, summarise } from "../load";
import { Figures, ScenarioContext, baseline, figure, ms, round } from "./common";
import { probePartsMs, processStartMs, startCost, traceSwitch } from "./process-cost";
import { footprintFigures, sampleGate } from "./s8-gate-footprint";

/** Goal: from the switch command to the first new session on the new color. */
export const FIRST_SESSION_GOAL_MS = 20;

export interface SwitchUnderLoadOptions {
  /** Default 20000. */
  readonly requests?: number;
  /** Default 32. */
  readonly concurrency?: number;
  /** Hard bound on the load, ms. Default 180000. */
  readonly maxMs?: number;
}

export interface SwitchUnderLoadResult {
  readonly figures: Figures;
  /** Scenario 8's figures, measured during this load. */
  readonly footprint: Figures;
}

/** The steps `switch-active.sh` marks with YQ_SWITCH_TIMING=1, in order. */
export const SWITCH_STEPS = ["start", "locked", "read", "probed", "written", "committed"] as const;

/**
 * ms from the spawn of the switch (`performance.now()` at `startedAt`) to each step the script marked
 * on stderr (`switch-active.sh: timing <step> <EPOCHREALTIME>`); a step it did not reach is absent.
 */
export function stepTimes(stderr: string, startedAt: number, timeOrigin: number): Record<string, number> {
  const times: Record<string, number> = {};
  for (const m of stderr.matchAll(/^switch-active\.sh: timing (\S+) (\d+\.\d+)$/gm)) {
    times[m[1] as string] = ms(startedAt, Number(m[2]) * 1000 - timeOrigin);
  }
  return times;
}

/** ms from `t0` to the end of the first response after `t0` served by `color`, or null. */
function firstServedBy(records: readonly RequestRecord[], color: Color, t0: number): number | null {
  let best: number | null = null;
  for (const r of records) {
    if (r.color === color && isOk(r) && r.start >= t0 && (best === null || r.end < best)) best = r.end;
  }
  return best === null ? null : ms(t0, best);
}

export async function switchUnderLoad(
  ctx: ScenarioContext,
  options: SwitchUnderLoadOptions = {},
): Promise<SwitchUnderLoadResult> {
  const { lab, log } = ctx;
  const requests = options.requests ?? 20_000;
  const concurrency = options.concurrency ?? 32;
  await baseline(lab, log);

  const switches: {
    to: Color;
    startedAt: number;
    endedAt: number;
    status: number;
    stderr: string;
    steps: Record<string, number>;
  }[] = [];
  let done = 0;
  let switching = true;
  const sampler = sampleGate(lab);
  log(`scenario 1: ${requests} requests at ${concurrency} clients; switching blue -> green -> blue`);
  const loadPromise = runLoad({
    baseUrl: lab.liveUrl(""),
    concurrency,
    total: requests,
    maxMs: options.maxMs ?? 180_000,
    keepGoing: () => switching,
    onRecord: (_r, n) => {
      done = n;
    },
  });
  const switchAt = async (fraction: number, to: Color): Promise<void> => {
    const deadline = performance.now() + (options.maxMs ?? 180_000) / 3;
    while (done < requests * fraction && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const r = await lab.runScript("gate", "switch-active", [to], 120_000, {
      ...process.env,
      YQ_SWITCH_TIMING: "1",
    });
    const steps = stepTimes(r.stderr, r.startedAt, performance.timeOrigin);
    switches.push({
      to,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      status: r.status,
      stderr: r.stderr,
      steps,
    });
    log(`scenario 1: switch to ${to} exited ${r.status} after ${ms(r.startedAt, r.endedAt)} ms`);
  };
  let startSamples: number[] = [];
  let probeParts: { curl: number[]; jq: number[] } = { curl: [], jq: [] };
  try {
    await switchAt(0.25, "green");
    // What one process start costs now, under the same load (between the two switches).
    startSamples = await processStartMs(20);
    // The probe a switch back to blue runs, in parts (blue is the standby now).
    probeParts = await probePartsMs(`http://${lab.address("blue")}:${lab.layout.ports.app}/health`);
    await switchAt(0.6, "blue");
  } finally {
    switching = false;
  }
  const load = await loadPromise;
  // How many processes a switch starts, counted once after the load (strace slows what it traces).
  const traced = await traceSwitch(lab, "green").catch(() => null);
  const footprint = new Figures();
  for (const f of footprintFigures(sampler.stop())) footprint.add(f);

  const sum = summarise(load.records);
  const seconds = (load.endedAt - load.startedAt) / 1000;
  const toGreen = switches[0];
  const toBlue = switches[1];
  const figures = new Figures();
  figures.add(
    figure("requests", "requests sent", sum.total, "requests", `>= ${requests}`, sum.total >= requests),
  );
  figures.add(figure("concurrency", "concurrent clients", concurrency, "clients", "32", concurrency >= 32));
  figures.add(
    figure(
      "failedRequests",
      "failed requests (non-2xx or error)",
      sum.failed,
      "requests",
      "0",
      sum.failed === 0,
    ),
  );
  figures.add(
    figure(
      "keepAliveRetries",
      "GETs resent (connection closed before any response)",
      sum.retried,
      "requests",
      "0",
      sum.retried === 0,
    ),
  );
  figures.add(figure("throughput", "throughput", round(sum.total / seconds, 0), "req/s"));
  figures.add(figure("servedBlue", "served by blue", sum.byColor.blue, "requests"));
  figures.add(figure("servedGreen", "served by green", sum.byColor.green, "requests"));
  const g = toGreen ? firstServedBy(load.records, "green", toGreen.startedAt) : null;
  const b = toBlue ? firstServedBy(load.records, "blue", toBlue.startedAt) : null;
  figures.add(
    figure(
      "switchExitCodes",
      "switch-active.sh exit codes",
      switches.map((s) => s.status).join(","),
      "",
      "0,0",
      switches.length === 2 && switches.every((s) => s.status === 0),
    ),
  );
  figures.add(
    figure(
      "toGreenFirstNewSessionMs",
      "switch blue->green: command to first new session on green",
      g,
      "ms",
      `<= ${FIRST_SESSION_GOAL_MS} ms`,
      g !== null && g <= FIRST_SESSION_GOAL_MS,
    ),
  );
  figures.add(
    figure(
      "toBlueFirstNewSessionMs",
      "switch green->blue: command to first new session on blue",
      b,
      "ms",
      `<= ${FIRST_SESSION_GOAL_MS} ms`,
      b !== null && b <= FIRST_SESSION_GOAL_MS,
    ),
  );
  // Where the time goes, per switch: from the spawn to each step the script marked, and from the
  // commit to the first new session's response.
  for (const [label, s, first] of [
    ["toGreen", toGreen, g],
    ["toBlue", toBlue, b],
  ] as const) {
    for (const step of SWITCH_STEPS) {
      figures.add(
        figure(`${label}Step_${step}`, `${label}: spawn to step "${step}"`, s?.steps[step] ?? null, "ms"),
      );
    }
    const committed = s?.steps.committed;
    figures.add(
      figure(
        `${label}CommitToFirstSessionMs`,
        `${label}: commit to the first new session's response`,
        committed === undefined || first === null ? null : round(first - committed, 1),
        "ms",
      ),
    );
  }
  const oldAfter = (s: (typeof switches)[number] | undefined, old: Color): number =>
    s
      ? load.records.filter(
          (r) =>
            r.start >= s.endedAt &&
            r.color === old &&
            r.start < (s === toGreen && toBlue ? toBlue.startedAt : Infinity),
        ).length
      : -1;
  figures.add(
    figure(
      "oldColorAfterSwitch",
      "new sessions on the old color after a switch completed",
      oldAfter(toGreen, "blue") + oldAfter(toBlue, "green"),
      "requests",
      "0",
      oldAfter(toGreen, "blue") + oldAfter(toBlue, "green") === 0,
    ),
  );
  figures.add(figure("loadSeconds", "load duration", round(seconds, 1), "s"));
  const cost = startCost(startSamples);
  figures.add(
    figure(
      "processStartMs",
      `one process start during the load (fork + exec + exit of /bin/true, median of ${cost.samples})`,
      cost.medianMs,
      "ms",
    ),
  );
  figures.add(figure("processStartMaxMs", "  the slowest of them", cost.maxMs, "ms"));
  for (const part of ["curl", "jq"] as const) {
    const c = startCost(probeParts[part]);
    figures.add(
      figure(
        `probe_${part}Ms`,
        `the switch's probe: ${part} alone during the load (median of ${c.samples})`,
        c.medianMs,
        "ms",
      ),
    );
  }
  figures.add(
    figure(
      "switchPrograms",
      "programs one switch runs (strace, after the load)",
      traced?.programs.join(",") ?? null,
      "",
    ),
  );
  figures.add(figure("switchExecs", "  their count (execve)", traced?.programs.length ?? null, "processes"));
  figures.add(
    figure(
      "switchForks",
      "  processes and subshells started (fork/clone)",
      traced?.forks ?? null,
      "processes",
    ),
  );
  await baseline(lab, log);
  return { figures, footprint };
}
