/**
 * Scenario 18, lab startup with and without monitoring: `down`, then `up`, timed in this process, once
 * with everything and once with `up --no-monitoring` (the shim leaves the exporters, Prometheus and
 * Alertmanager stopped, and no webhook receiver starts), `rounds` times in the order with, without,
 * without, with, ... so that a drift of the machine's load falls on both alike. The CLI's own start
 * (tsx, about a second) comes on top of both and is not in the figures.
 *
 * Also: from the start of an `up` with monitoring until both Prometheus servers and both
 * Alertmanagers answer ready (`up` itself waits for the nodes' health-check.sh only).
 *
 * The only scenario that stops the lab: it ends with the lab up with monitoring, at the baseline.
 */
import { COLORS } from "../../cloud-init/layout";
import { MONITORING_PORTS } from "../../cloud-init/monitoring";
import { median } from "../bench-summary";
import { Lab } from "../lab";
import { down, up } from "../lifecycle";
import { waitFor } from "../poll";
import { httpGet } from "../probes";
import { Figures, ScenarioContext, baseline, figure, round } from "./common";

/** The "a few seconds more at most" (#13), read as 3 s. */
export const MONITORING_STARTUP_GOAL_S = 3;

/** The order of the `up`s: with (true) and without (false) monitoring, mirrored per pair of rounds. */
export function startupOrder(rounds: number): boolean[] {
  const order: boolean[] = [];
  for (let i = 0; i < rounds; i += 1) order.push(...(i % 2 === 0 ? [true, false] : [false, true]));
  return order;
}

async function monitoringReady(lab: Lab): Promise<boolean> {
  for (const color of COLORS) {
    for (const port of [MONITORING_PORTS.prometheus, MONITORING_PORTS.alertmanager]) {
      const r = await httpGet(`http://${lab.address(color)}:${port}/-/ready`, 1000);
      if (r.status !== 200) return false;
    }
  }
  return true;
}

export async function labStartup(ctx: ScenarioContext, rounds = 2): Promise<Figures> {
  const { lab, log } = ctx;
  const withS: number[] = [];
  const withoutS: number[] = [];
  const readyS: number[] = [];
  const quiet = (): void => undefined;
  try {
    for (const monitoring of startupOrder(rounds)) {
      await down(lab, quiet);
      const t0 = performance.now();
      await up(lab, quiet, { monitoring });
      const took = (performance.now() - t0) / 1000;
      (monitoring ? withS : withoutS).push(took);
      if (monitoring) {
        const ready = await waitFor(
          async () => ((await monitoringReady(lab)) ? true : undefined),
          60_000,
          100,
        );
        if (ready) readyS.push((performance.now() - t0) / 1000);
      }
      log(`startup: up ${monitoring ? "with" : "without"} monitoring took ${took.toFixed(1)} s`);
    }
  } finally {
    // Back to the whole lab: an up with monitoring starts what the last one left stopped.
    await up(lab, quiet);
    await baseline(lab, log);
  }
  const s = (v: number[]): number | null => (v.length > 0 ? round(median(v), 1) : null);
  const diff = withS.length > 0 && withoutS.length > 0 ? round(median(withS) - median(withoutS), 1) : null;
  const f = new Figures();
  f.add(figure("upWithMonitoringS", `up with monitoring (median of ${withS.length})`, s(withS), "s"));
  f.add(
    figure("upWithoutMonitoringS", `up --no-monitoring (median of ${withoutS.length})`, s(withoutS), "s"),
  );
  f.add(
    figure(
      "monitoringStartupCostS",
      "what monitoring adds to up (difference of the medians)",
      diff,
      "s",
      `<= ${MONITORING_STARTUP_GOAL_S} s`,
      diff !== null && diff <= MONITORING_STARTUP_GOAL_S,
    ),
  );
  f.add(
    figure(
      "upToMonitoringReadyS",
      `up with monitoring until both Prometheus and Alertmanager are ready (median of ${readyS.length})`,
      s(readyS),
      "s",
    ),
  );
  return f;
}
