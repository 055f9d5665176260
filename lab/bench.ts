/**
 * `npm run lab -- bench`: runs every scenario and reports each figure with its unit and goal.
 */
import { Lab } from "./lab";

export const BENCH_FILE = "bench.json";

/** One measured figure. */
export interface Figure {
  readonly name: string;
  readonly value: number | string | boolean | null;
  readonly unit: string;
  /** Human-readable goal, e.g. "0", "<= 100 ms". */
  readonly goal: string;
  /** Whether the value meets the goal; null when the figure has no pass/fail goal. */
  readonly met: boolean | null;
}

export interface ScenarioResult {
  readonly id: number;
  readonly name: string;
  readonly figures: Figure[];
  readonly durationSeconds: number;
  readonly error: string | null;
}

export interface BenchResults {
  readonly schema: "yquant-lab-bench/1";
  readonly startedAt: string;
  readonly machine: { readonly cpus: number; readonly haproxy: string; readonly valkey: string };
  readonly scenarios: ScenarioResult[];
}

export async function runBench(_lab: Lab, _log: (line: string) => void): Promise<BenchResults> {
  throw new Error("not yet");
}

export function formatBench(_r: BenchResults): string {
  return "";
}
