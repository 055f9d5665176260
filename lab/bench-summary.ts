/**
 * `bench --repeat N`: the summary over N runs of the scenario set (schema in docs/lab.md). Pure: no
 * processes, no files, so tests/lab/bench-summary.test.ts checks it directly.
 *
 * For each figure (scenario id + figure key): every run's value; for numeric values the median, min
 * and max; for a count with an exact goal ("0", "500", "100%") the worst run, the value furthest from
 * the goal; and whether the goal was met in every run.
 */

import type { Figure } from "./scenarios/common";

/** A figure as the scenarios report it (lab/scenarios/common.ts). */
export type SummaryFigureInput = Figure;

/** The parts of a scenario result the summary reads. */
export interface SummaryScenarioInput {
  readonly id: number;
  readonly name: string;
  readonly durationSeconds: number;
  readonly error: string | null;
  readonly figures: readonly SummaryFigureInput[];
}

export interface SummaryRunInput {
  readonly scenarios: readonly SummaryScenarioInput[];
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface FigureSummary {
  readonly key: string;
  readonly name: string;
  readonly unit: string;
  readonly goal: string;
  /** One entry per run, in run order; null when that run has no such figure (its scenario failed). */
  readonly values: (number | string | boolean | null)[];
  /** Over the runs with a numeric value; null when no run has one. */
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** For a numeric figure with an exact goal: the value furthest from the goal; else null. */
  readonly worst: number | null;
  /** null when the figure has no goal in any run; else true only when every run met it. */
  readonly met: boolean | null;
  /** How many runs met the goal. */
  readonly metRuns: number;
}

export interface ScenarioSummary {
  readonly id: number;
  readonly name: string;
  readonly durationSeconds: Spread;
  /** How many runs ended this scenario with an error. */
  readonly errorRuns: number;
  readonly figures: FigureSummary[];
}

export interface BenchSummary {
  readonly runs: number;
  readonly scenarios: ScenarioSummary[];
}

/** The median of the values (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length % 2 === 1) return s[mid] as number;
  return ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** The target of an exact numeric goal ("0", "500", "100%"), or null for any other goal. */
export function exactGoal(goal: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(goal);
  return m ? Number(m[1]) : null;
}

/** Of the values, the one furthest from `target` (the first such). */
export function worstOf(values: readonly number[], target: number): number {
  let worst = values[0] as number;
  for (const v of values) if (Math.abs(v - target) > Math.abs(worst - target)) worst = v;
  return worst;
}

function summariseFigure(
  key: string,
  perRun: (SummaryFigureInput | undefined)[],
  template: SummaryFigureInput,
): FigureSummary {
  const values = perRun.map((f) => (f === undefined ? null : f.value));
  const numbers = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const s = numbers.length > 0 ? spread(numbers) : null;
  const target = exactGoal(template.goal);
  const hasGoal = perRun.some((f) => f !== undefined && f.met !== null);
  const metRuns = perRun.filter((f) => f?.met === true).length;
  return {
    key,
    name: template.name,
    unit: template.unit,
    goal: template.goal,
    values,
    median: s?.median ?? null,
    min: s?.min ?? null,
    max: s?.max ?? null,
    worst: s !== null && target !== null ? worstOf(numbers, target) : null,
    // A run without the figure (its scenario failed) did not meet the goal.
    met: hasGoal ? metRuns === perRun.length : null,
    metRuns,
  };
}

/** The summary over the runs: scenarios and figures in the order they first appear. */
export function summariseRuns(runs: readonly SummaryRunInput[]): BenchSummary {
  const ids: number[] = [];
  for (const r of runs) for (const s of r.scenarios) if (!ids.includes(s.id)) ids.push(s.id);
  const scenarios = ids.map((id): ScenarioSummary => {
    const perRun = runs.map((r) => r.scenarios.find((s) => s.id === id));
    const present = perRun.filter((s): s is SummaryScenarioInput => s !== undefined);
    const keys: string[] = [];
    const templates = new Map<string, SummaryFigureInput>();
    for (const s of present) {
      for (const f of s.figures) {
        if (!templates.has(f.key)) {
          keys.push(f.key);
          templates.set(f.key, f);
        }
      }
    }
    return {
      id,
      name: present[0]?.name ?? "",
      durationSeconds: spread(present.map((s) => s.durationSeconds)),
      errorRuns: perRun.filter((s) => s === undefined || s.error !== null).length,
      figures: keys.map((key) =>
        summariseFigure(
          key,
          perRun.map((s) => s?.figures.find((f) => f.key === key)),
          templates.get(key) as SummaryFigureInput,
        ),
      ),
    };
  });
  return { runs: runs.length, scenarios };
}

function show(value: number | string | boolean | null): string {
  if (value === null) return "-";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return String(value);
}

/**
 * How a figure reads over the runs: the value to print, and the note next to it, e.g.
 * `169.6` and `median of 3; 166.9–182.9`, or for an exact goal `0` and `worst of 3; median 0; 0–0`.
 */
export function describeFigure(f: FigureSummary): { value: string; note: string } {
  const n = f.values.length;
  const missing = f.values.filter((v) => v === null).length;
  const absent = missing > 0 ? `; missing in ${missing}` : "";
  if (f.median !== null && f.min !== null && f.max !== null) {
    const range = `${show(f.min)}–${show(f.max)}`;
    if (f.worst !== null) {
      return { value: show(f.worst), note: `worst of ${n}; median ${show(f.median)}; ${range}${absent}` };
    }
    return { value: show(f.median), note: `median of ${n}; ${range}${absent}` };
  }
  const distinct = [...new Set(f.values.filter((v) => v !== null).map(show))];
  if (distinct.length <= 1) return { value: distinct[0] ?? "-", note: `same in ${n - missing} of ${n}` };
  const counts = distinct.map((d) => `${d} ×${f.values.filter((v) => v !== null && show(v) === d).length}`);
  return { value: "varies", note: `${counts.join(", ")}${absent}` };
}

/** `yes` when met in every run, `NO (k of N)` otherwise, empty without a goal. */
export function describeMet(f: FigureSummary): string {
  if (f.met === null) return "";
  return f.met ? "yes" : `NO (${f.metRuns} of ${f.values.length})`;
}
