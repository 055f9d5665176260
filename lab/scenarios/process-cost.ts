/**
 * The two facts behind scenario 1's time from the switch command to the first new session: what one
 * process start costs on this machine while the load runs, and how many processes a switch starts
 * (docs/lab.md, "Results"). Both are reported, never goals.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Color } from "../../cloud-init/layout";
import { Lab } from "../lab";
import { runAsync } from "../processes";
import { median } from "../bench-summary";

/** ms of each fork + exec + exit of /bin/true, timed by one bash around each (no Node in between). */
export async function processStartMs(runs = 20): Promise<number[]> {
  const loop = `for ((i = 0; i < ${runs}; i++)); do t0=$EPOCHREALTIME; /bin/true; echo "$t0 $EPOCHREALTIME"; done`;
  const r = await runAsync("/bin/bash", ["-c", loop], process.env, 30_000);
  return r.stdout
    .trim()
    .split("\n")
    .map((line) => line.split(" ").map(Number))
    .filter((p) => p.length === 2 && p.every(Number.isFinite))
    .map(([a, b]) => Math.round(((b as number) - (a as number)) * 10_000) / 10);
}

/**
 * ms of the switch's probe in parts, `runs` times each, timed by one bash: curl of `url` alone, and
 * jq alone on its answer (the same filter switch-active.sh runs).
 */
export async function probePartsMs(url: string, runs = 10): Promise<{ curl: number[]; jq: number[] }> {
  const jq = `jq -er 'if type == "object" then "\\(.status) \\(.color)" else error("x") end'`;
  const loop =
    `body=$(curl -fsS --max-time 3 "$0") || exit 1; for ((i = 0; i < ${runs}; i++)); do ` +
    `t0=$EPOCHREALTIME; curl -fsS --max-time 3 "$0" >/dev/null; t1=$EPOCHREALTIME; ` +
    `printf '%s' "$body" | ${jq} >/dev/null; echo "$t0 $t1 $EPOCHREALTIME"; done`;
  const r = await runAsync("/bin/bash", ["-c", loop, url], process.env, 60_000);
  const rows = r.stdout
    .trim()
    .split("\n")
    .map((line) => line.split(" ").map(Number))
    .filter((p) => p.length === 3 && p.every(Number.isFinite)) as [number, number, number][];
  const d = (a: number, b: number): number => Math.round((b - a) * 10_000) / 10;
  return { curl: rows.map(([a, b]) => d(a, b)), jq: rows.map(([, b, c]) => d(b, c)) };
}

export interface ProcessStartCost {
  readonly medianMs: number | null;
  readonly maxMs: number | null;
  readonly samples: number;
}

export function startCost(values: readonly number[]): ProcessStartCost {
  return {
    medianMs: values.length > 0 ? median(values) : null,
    maxMs: values.length > 0 ? Math.max(...values) : null,
    samples: values.length,
  };
}

export interface ProcessCount {
  /** Successful execve calls: the programs run, in order (the script itself first). */
  readonly programs: string[];
  /** Successful clone/fork calls: every process (and subshell) started. */
  readonly forks: number;
}

/**
 * Reads `strace -f -e trace=execve,clone,clone3,fork,vfork` output: the programs a successful
 * execve started (an exec split by another process's line is matched by its pid), and the forks.
 */
export function countProcesses(trace: string): ProcessCount {
  const programs: string[] = [];
  const pending = new Map<string, string>();
  let forks = 0;
  for (const line of trace.split("\n")) {
    const pid = /^(\d+) /.exec(line)?.[1] ?? "";
    const exec = /execve\("([^"]+)"/.exec(line);
    if (exec) {
      if (/ = 0$/.test(line)) programs.push(path.basename(exec[1] as string));
      else if (line.endsWith("<unfinished ...>")) pending.set(pid, path.basename(exec[1] as string));
      continue;
    }
    if (/<\.\.\. execve resumed>.* = 0$/.test(line) && pending.has(pid)) {
      programs.push(pending.get(pid) as string);
      pending.delete(pid);
      continue;
    }
    if (/(?:\b(?:clone3?|v?fork)\(|<\.\.\. (?:clone3?|v?fork) resumed>).* = [1-9]\d*$/.test(line)) forks += 1;
  }
  return { programs, forks };
}

/** One switch to `color` under strace (null when strace is not installed or the switch failed). */
export async function traceSwitch(lab: Lab, color: Color): Promise<ProcessCount | null> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "yq-switch-trace-")), "trace");
  try {
    const r = await runAsync(
      "strace",
      [
        "-f",
        "-qq",
        "-e",
        "trace=execve,clone,clone3,fork,vfork",
        "-o",
        out,
        lab.script("gate", "switch-active"),
      ].concat([color, "--drain", "0"]),
      process.env,
      60_000,
    );
    if (r.status !== 0) return null;
    return countProcesses(fs.readFileSync(out, "utf8"));
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}
