/**
 * `npm run lab -- bench-startup [--runs N]`: how long a cold `npm run lab` (render, materialise,
 * setup.sh on every node, health) takes with the stack's topology and with the same topology
 * without monitoring (every role `monitoring: none`), N runs each, alternating, in a lab directory
 * of its own (`<lab dir>-startup`, removed after). Prints the medians and the difference; the
 * main lab must be down (the same addresses). Figures only: nothing here is a test goal.
 */
import * as fs from "node:fs";
import { TOPOLOGY, Topology } from "../cloud-init/topology";
import { Lab } from "./lab";
import { labDir, labLayout } from "./layout";
import { down, up } from "./ops";

export interface StartupFigures {
  readonly runs: number;
  readonly withMonitoringSeconds: number[];
  readonly withoutMonitoringSeconds: number[];
  readonly medianWithSeconds: number;
  readonly medianWithoutSeconds: number;
  readonly medianDifferenceSeconds: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The stack's topology with no monitoring on any role. */
export function withoutMonitoring(topology: Topology = TOPOLOGY): Topology {
  return {
    ...topology,
    roles: Object.fromEntries(
      Object.entries(topology.roles).map(([name, role]) => [name, { ...role, monitoring: "none" as const }]),
    ),
  };
}

async function coldStart(dir: string, topology: Topology, log: (line: string) => void): Promise<number> {
  fs.rmSync(dir, { recursive: true, force: true });
  const lab = new Lab(dir, { layout: labLayout({ dir, topology, createSecrets: true }) });
  const t0 = performance.now();
  try {
    await up(lab, () => {});
    return (performance.now() - t0) / 1000;
  } finally {
    await down(lab, log);
  }
}

export async function benchStartup(runs: number, log: (line: string) => void): Promise<StartupFigures> {
  const dir = `${labDir()}-startup`;
  const withM: number[] = [];
  const withoutM: number[] = [];
  try {
    for (let i = 1; i <= runs; i += 1) {
      withM.push(round1(await coldStart(dir, TOPOLOGY, log)));
      withoutM.push(round1(await coldStart(dir, withoutMonitoring(), log)));
      log(`startup run ${i}: with monitoring ${withM.at(-1)} s, without ${withoutM.at(-1)} s`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const a = median(withM);
  const b = median(withoutM);
  return {
    runs,
    withMonitoringSeconds: withM,
    withoutMonitoringSeconds: withoutM,
    medianWithSeconds: round1(a),
    medianWithoutSeconds: round1(b),
    medianDifferenceSeconds: round1(a - b),
  };
}
