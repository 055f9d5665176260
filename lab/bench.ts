/**
 * `npm run lab -- bench`: runs every scenario in order, and reports each figure with its unit and its
 * goal (`<lab dir>/bench.json`, schema in docs/lab.md). Each scenario starts from and restores the
 * baseline (everything healthy, live traffic on blue, message master blue), so a failed one does not
 * spoil the next.
 */
import * as os from "node:os";
import { BenchSummary, describeFigure, describeMet, summariseRuns } from "./bench-summary";
import { Lab } from "./lab";
import { run } from "./processes";
import { Figure, Figures, ScenarioContext, baseline } from "./scenarios/common";
import { SCENARIOS, SCENARIO_NAMES, type BenchState } from "./scenarios/registry";

export const BENCH_FILE = "bench.json";

export type { Figure };

export interface ScenarioResult {
  readonly id: number;
  readonly name: string;
  readonly figures: Figure[];
  readonly durationSeconds: number;
  /** The error that ended the scenario early, or null. */
  readonly error: string | null;
}

export interface BenchResults {
  readonly schema: "yquant-lab-bench/1";
  readonly startedAt: string;
  readonly machine: { readonly cpus: number; readonly haproxy: string; readonly valkey: string };
  readonly scenarios: ScenarioResult[];
}

/** `bench --repeat N` with N > 1 (schema in docs/lab.md): every run in the single-run shape, and the summary. */
export interface RepeatedBenchResults {
  readonly schema: "yquant-lab-bench-repeat/1";
  readonly startedAt: string;
  readonly machine: BenchResults["machine"];
  readonly repeat: number;
  readonly runs: BenchResults[];
  readonly summary: BenchSummary;
}

function versions(): { haproxy: string; valkey: string } {
  const v = (cmd: string, args: string[], re: RegExp): string => {
    try {
      return re.exec(run(cmd, args))?.[1] ?? "unknown";
    } catch {
      return "unknown";
    }
  };
  return {
    haproxy: v("haproxy", ["-v"], /version (\S+)/),
    valkey: v("valkey-server", ["--version"], /v=(\S+)/),
  };
}

/** Runs every scenario (or those in `only`); never throws for a scenario's failure (it is recorded in `error`). */
export async function runBench(
  lab: Lab,
  log: (line: string) => void,
  only?: readonly number[],
): Promise<BenchResults> {
  const ctx: ScenarioContext = { lab, log };
  const results: ScenarioResult[] = [];
  const startedAt = new Date().toISOString();
  const state: BenchState = { footprint: null };
  const runOne = async (id: number, body: () => Promise<Figures>): Promise<void> => {
    const t0 = performance.now();
    log(`scenario ${id}: ${SCENARIO_NAMES[id]}`);
    let figures: Figure[] = [];
    let error: string | null = null;
    try {
      figures = (await body()).list;
    } catch (err) {
      error = (err as Error).message;
      log(`scenario ${id} failed: ${error}`);
      try {
        await baseline(lab, log);
      } catch (restoreErr) {
        log(`restoring the baseline after scenario ${id} failed: ${(restoreErr as Error).message}`);
      }
    }
    results.push({
      id,
      name: SCENARIO_NAMES[id] ?? "",
      figures,
      durationSeconds: Math.round((performance.now() - t0) / 100) / 10,
      error,
    });
  };
  for (const [id, scenario] of SCENARIOS) {
    if (only === undefined || only.includes(id)) await runOne(id, () => scenario.run(ctx, state));
  }
  return {
    schema: "yquant-lab-bench/1",
    startedAt,
    machine: { cpus: os.cpus().length, ...versions() },
    scenarios: results,
  };
}

/** Runs the whole scenario set `repeat` times (the lab stays up between runs; each scenario restores the baseline). */
export async function runBenchRepeated(
  lab: Lab,
  repeat: number,
  log: (line: string) => void,
  only?: readonly number[],
): Promise<RepeatedBenchResults> {
  const startedAt = new Date().toISOString();
  const runs: BenchResults[] = [];
  for (let i = 1; i <= repeat; i += 1) {
    log(`run ${i} of ${repeat}`);
    runs.push(await runBench(lab, log, only));
  }
  return {
    schema: "yquant-lab-bench-repeat/1",
    startedAt,
    machine: runs[0]?.machine ?? { cpus: os.cpus().length, ...versions() },
    repeat,
    runs,
    summary: summariseRuns(runs),
  };
}

/**
 * Every goal a bench missed and every scenario that failed, one line each (empty: all met). Over N
 * runs, a figure counts as missed when a run missed it; its value is the summary's.
 */
export function missedGoals(r: BenchResults | RepeatedBenchResults): string[] {
  const out: string[] = [];
  if (r.schema === "yquant-lab-bench/1") {
    for (const s of r.scenarios) {
      if (s.error) out.push(`${s.id} ${s.name}: failed: ${s.error.split("\n")[0] ?? ""}`);
      for (const f of s.figures) {
        if (f.met === false)
          out.push(
            `${s.id} ${s.name}: ${f.name} = ${show(f.value)} ${f.unit} (goal ${f.goal})`.replace(
              / +\(/,
              " (",
            ),
          );
      }
    }
    return out;
  }
  for (const s of r.summary.scenarios) {
    if (s.errorRuns > 0) out.push(`${s.id} ${s.name}: failed in ${s.errorRuns} of ${r.repeat} runs`);
    for (const f of s.figures) {
      if (f.met === false) {
        out.push(
          `${s.id} ${s.name}: ${f.name} = ${describeFigure(f).value} ${f.unit} (goal ${f.goal}; met in ${f.metRuns} of ${r.repeat} runs)`.replace(
            / +\(/,
            " (",
          ),
        );
      }
    }
  }
  return out;
}

function show(value: Figure["value"]): string {
  if (value === null) return "-";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return String(value);
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 3)}...`;
}

/** The bench table: every figure with its value, unit, goal and whether the goal is met. */
export function formatBench(r: BenchResults): string {
  const rows: string[][] = [["#", "figure", "value", "unit", "goal", "met"]];
  for (const s of r.scenarios) {
    rows.push([String(s.id), `${s.name} (${s.durationSeconds} s)`, "", "", "", s.error ? "ERROR" : ""]);
    if (s.error) rows.push(["", `  error: ${s.error.split("\n")[0]?.slice(0, 100) ?? ""}`, "", "", "", ""]);
    for (const f of s.figures) {
      const met = f.met === null ? "" : f.met ? "yes" : "NO";
      rows.push(["", `  ${f.name}`, truncate(show(f.value), 24), f.unit, f.goal, met]);
    }
  }
  const line = tableLines(rows);
  const header = `bench ${r.startedAt}: ${r.machine.cpus} CPUs, haproxy ${r.machine.haproxy}, valkey ${r.machine.valkey}`;
  return [header, "", line(rows[0] ?? []), ...rows.slice(1).map(line)].join("\n");
}

/**
 * The table over N runs: per scenario its median duration, then per figure the median (or, for a
 * count with an exact goal, the worst run), the min–max, and whether the goal was met in every run.
 */
export function formatRepeatedBench(r: RepeatedBenchResults): string {
  const n = r.repeat;
  const rows: string[][] = [["#", "figure", "value", "unit", `over ${n} runs`, "goal", "met"]];
  for (const s of r.summary.scenarios) {
    const d = s.durationSeconds;
    const sec = (x: number): string => String(Math.round(x * 10) / 10);
    rows.push([
      String(s.id),
      `${s.name} (median ${sec(d.median)} s; ${sec(d.min)}–${sec(d.max)})`,
      "",
      "",
      "",
      "",
      s.errorRuns > 0 ? `ERROR (${s.errorRuns} of ${n})` : "",
    ]);
    r.runs.forEach((run, i) => {
      const err = run.scenarios.find((x) => x.id === s.id)?.error;
      if (err)
        rows.push([
          "",
          `  error in run ${i + 1}: ${err.split("\n")[0]?.slice(0, 100) ?? ""}`,
          "",
          "",
          "",
          "",
          "",
        ]);
    });
    for (const f of s.figures) {
      const { value, note } = describeFigure(f);
      rows.push(["", `  ${f.name}`, truncate(value, 24), f.unit, note, f.goal, describeMet(f)]);
    }
  }
  const line = tableLines(rows);
  const header =
    `bench ${r.startedAt}, ${n} runs: ${r.machine.cpus} CPUs, haproxy ${r.machine.haproxy}, valkey ${r.machine.valkey}\n` +
    "value: the median over the runs; for a count with an exact goal, the worst run. met: in every run.";
  return [header, "", line(rows[0] ?? []), ...rows.slice(1).map(line)].join("\n");
}

/** Aligns a table's columns: the value column (index 2) to the right, the others to the left. */
function tableLines(rows: readonly string[][]): (row: string[]) => string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  return (row) =>
    row
      .map((cell, i) => (i === 2 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
}
