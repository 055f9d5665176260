/**
 * `npm run lab -- <command>`: the local lab. Plain `npm run lab` is `up`. See docs/lab.md.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { switchSteps } from "../bluegreen/commands";
import { COLORS, NODE_NAMES, NodeName, isColor, nodeNames } from "../cloud-init/layout";
import { DRAIN_RULE, isReleaseRef, parseDrainSeconds } from "../rules";
import { Lab, findService, nodeServices, serviceNames, signalPids } from "./lab";
import { benchStartup } from "./bench-startup";
import { labDir } from "./layout";
import { down, formatEndpoints, formatStatus, logTails, status, up } from "./ops";
import { firingAlerts, formatAlerts } from "./monitoring";
import { ensurePrograms, installInstructions } from "./prereqs";
import {
  BENCH_FILE,
  REPEAT_MAX,
  REPEAT_MIN,
  SCENARIO_NAMES,
  formatBench,
  formatRepeatedBench,
  runBench,
  runBenchRepeated,
} from "./bench";

const COMMANDS = [
  "up",
  "status",
  "switch",
  "deploy",
  "kill",
  "freeze",
  "thaw",
  "start",
  "down",
  "bench",
  "bench-startup",
  "alerts",
  "help",
];

const USAGE = `usage: npm run lab -- <command>
  up                                  render, materialise, start everything, wait for health (default)
  status [--json]                     nodes, services (port, pid, health), active color, message master
  switch <blue|green> [--drain S] [--force] [--no-promote]
                                      the cloud's switch steps on the gate: switch-active.sh, then
                                      promote-master.sh (not with --no-promote, as with
                                      messageMasterFollowsActive false)
  deploy <blue|green> <release>       run that engine's deploy.sh
  kill <node> [service]               SIGKILL a service, or every service of the node
  freeze <node> | thaw <node>         SIGSTOP / SIGCONT every process of the node
  start <node> [service]              start a service (or every service of the node) again
  down                                stop everything the lab started, by pid
  bench [--json] [--repeat N] [--only IDS]
                                      run the measured scenarios (N times, 1..10, default 1: median and
                                      min-max per figure; IDS e.g. 12,13); writes <lab dir>/bench.json
  bench-startup [--runs N]            cold lab start with and without monitoring, N runs each (1..10,
                                      default 3), medians; in <lab dir>-startup, the lab must be down
  alerts [--json]                     the firing alerts, as both engines' Prometheus servers see them
nodes: ${NODE_NAMES.join(", ")}; services: gate: haproxy, valkey, sentinel; engines: valkey, sentinel,
frontend, backend, sync (app = frontend). Lab directory: $YQ_LAB_DIR or <repo>/.lab`;

/** A bad command line: exit 2, nothing changed. */
class UsageError extends Error {}

function log(line: string): void {
  console.log(`lab: ${line}`);
}

function parseNode(value: string | undefined, what = "<node>"): NodeName {
  if (value === undefined) throw new UsageError(`missing ${what}: expected one of ${NODE_NAMES.join(", ")}`);
  if (!(NODE_NAMES as readonly string[]).includes(value)) {
    throw new UsageError(`invalid ${what} "${value}": expected one of ${NODE_NAMES.join(", ")}`);
  }
  return value as NodeName;
}

function parseColor(value: string | undefined): "blue" | "green" {
  if (value === undefined) throw new UsageError(`missing <color>: expected one of ${COLORS.join(", ")}`);
  if (!isColor(value))
    throw new UsageError(`invalid <color> "${value}": expected one of ${COLORS.join(", ")}`);
  return value;
}

function noMore(args: readonly string[], command: string): void {
  if (args.length > 0) throw new UsageError(`${command}: unexpected argument "${args[0]}"`);
}

function flags(args: readonly string[], allowed: readonly string[], command: string): Set<string> {
  const set = new Set<string>();
  for (const a of args) {
    if (!allowed.includes(a)) {
      throw new UsageError(
        `${command}: unexpected argument "${a}"${allowed.length ? `: allowed ${allowed.join(", ")}` : ""}`,
      );
    }
    set.add(a);
  }
  return set;
}

/** A whole number from `min` to `max` given after `flag`, or a UsageError naming both. */
function count(flag: string, v: string | undefined, min: number, max: number, what: string): number {
  if (v === undefined || !/^\d{1,2}$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`invalid ${flag} "${v ?? ""}": a whole number of ${what} from ${min} to ${max}`);
  }
  return Number(v);
}

/** `bench [--json] [--repeat N] [--only IDS]`. */
function parseBenchArgs(args: readonly string[]): {
  json: boolean;
  repeat: number;
  only: ReadonlySet<number> | undefined;
} {
  let json = false;
  let repeat = 1;
  let only: Set<number> | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const a = args[i] as string;
    if (a === "--json") json = true;
    else if (a === "--repeat") {
      repeat = count("--repeat", args[i + 1], REPEAT_MIN, REPEAT_MAX, "runs");
      i += 1;
    } else if (a === "--only") {
      const v = args[i + 1] ?? "";
      const ids = v.split(",").map(Number);
      if (!/^\d{1,2}(,\d{1,2})*$/.test(v) || ids.some((id) => SCENARIO_NAMES[id] === undefined)) {
        throw new UsageError(
          `invalid --only "${v}": scenario ids separated by commas, from ${Object.keys(SCENARIO_NAMES).join(", ")}`,
        );
      }
      only = new Set(ids);
      i += 1;
    } else throw new UsageError(`bench: unexpected argument "${a}": allowed --json, --repeat N, --only IDS`);
  }
  return { json, repeat, only };
}

/** `bench-startup [--runs N]`. */
function parseStartupArgs(args: readonly string[]): number {
  if (args.length === 0) return 3;
  if (args[0] !== "--runs" || args.length !== 2) {
    throw new UsageError(`bench-startup: unexpected argument "${args.join(" ")}": allowed --runs N`);
  }
  return count("--runs", args[1], 1, 10, "runs");
}

function requireLab(lab: Lab): void {
  if (!fs.existsSync(path.join(lab.dir, "state"))) {
    throw new Error(`no lab at ${lab.dir}: run \`npm run lab\` (up) first`);
  }
}

function requirePrograms(): void {
  const missing = ensurePrograms(process.getuid?.() === 0, log);
  if (missing.length > 0) {
    console.error(installInstructions(missing));
    process.exit(1);
  }
}

/** Runs a node script with inherited output (without blocking the event loop); resolves with its exit status. */
function runInherited(
  lab: Lab,
  node: NodeName,
  script: "switch-active" | "promote-master" | "deploy",
  args: string[],
): Promise<number> {
  childRunning = true;
  return new Promise((resolve) => {
    const child = spawn(lab.script(node, script), args, { stdio: "inherit" });
    child.on("error", (err) => {
      console.error(`lab: ${err.message}`);
      resolve(1);
    });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 130 : 1)));
  });
}

/** Services named on the command line, validated against the node. */
function pickServices(lab: Lab, node: NodeName, name: string | undefined) {
  if (name === undefined) return nodeServices(lab.layout, node);
  const s = findService(lab.layout, node, name);
  if (!s) {
    throw new UsageError(
      `invalid [service] "${name}" for ${node}: expected one of ${serviceNames(lab.layout, node).join(", ")}`,
    );
  }
  return [s];
}

/** What Ctrl-C (or SIGTERM) must undo: set while `up` or `bench` runs. */
let cleanupOnInterrupt: (() => Promise<void>) | undefined;
let interrupted = false;
/** A node script runs in the foreground: Ctrl-C reaches it too, and its own trap handles it. */
let childRunning = false;
let activeLab: Lab | undefined;

async function main(argv: string[]): Promise<number> {
  const [command = "up", ...rest] = argv;
  if (!COMMANDS.includes(command)) {
    throw new UsageError(`unknown command "${command}": expected one of ${COMMANDS.join(", ")}`);
  }
  if (command === "help") {
    console.log(USAGE);
    return 0;
  }
  // Validate everything about the arguments before touching anything.
  if (command === "up") noMore(rest, "up");
  // No secrets are generated except by `up`: a bad command line changes nothing.
  const lab = new Lab(labDir(), { createSecrets: command === "up" });
  activeLab = lab;
  switch (command) {
    case "up": {
      noMore(rest, "up");
      requirePrograms();
      const wasRunning = nodeNames(lab.layout)
        .flatMap((n) => nodeServices(lab.layout, n).map((s) => `${n}/${s.unit}`))
        .filter((id) => {
          const [n, u] = id.split("/") as [NodeName, string];
          return lab.pid(n, u) !== null;
        });
      const cleanup = async (): Promise<void> => {
        log("stopping what this up started");
        for (const node of nodeNames(lab.layout)) {
          for (const s of nodeServices(lab.layout, node)) {
            const pid = wasRunning.includes(`${node}/${s.unit}`) ? null : lab.pid(node, s.unit);
            if (pid === null) continue;
            await lab.stop(node, s.unit).then(
              () => log(`${node}: stopped ${s.unit} (pid ${pid})`),
              (err: Error) => console.error(`lab: ${err.message}`),
            );
          }
        }
      };
      cleanupOnInterrupt = cleanup;
      try {
        await up(lab, log);
      } catch (err) {
        if (interrupted) return 130;
        cleanupOnInterrupt = undefined;
        console.error(`lab: up failed: ${(err as Error).message}`);
        await cleanup();
        return 1;
      }
      cleanupOnInterrupt = undefined;
      console.log("\nlab is up:\n" + formatEndpoints(lab));
      return 0;
    }
    case "status": {
      const f = flags(rest, ["--json"], "status");
      requireLab(lab);
      const s = await status(lab);
      console.log(f.has("--json") ? JSON.stringify(s, null, 2) : formatStatus(s));
      return 0;
    }
    case "switch": {
      const color = parseColor(rest[0]);
      let drainSeconds = lab.layout.drainSeconds;
      let force = false;
      let follows = true;
      for (let i = 1; i < rest.length; i += 1) {
        const a = rest[i] as string;
        if (a === "--force") force = true;
        else if (a === "--no-promote") follows = false;
        else if (a === "--drain") {
          const v = rest[i + 1];
          const parsed = v === undefined ? undefined : parseDrainSeconds(v);
          if (parsed === undefined) throw new UsageError(`invalid --drain "${v ?? ""}": ${DRAIN_RULE}`);
          drainSeconds = parsed;
          i += 1;
        } else
          throw new UsageError(
            `switch: unexpected argument "${a}": allowed --drain S, --force, --no-promote`,
          );
      }
      requireLab(lab);
      // The same steps as the cloud's switch command (bluegreen/commands.ts), run as the lab's gate.
      lab.installDeliveredScripts();
      for (const [script, ...args] of switchSteps({
        color,
        drainSeconds,
        messageMasterFollowsActive: follows,
      })) {
        const name = script.replace(/\.sh$/, "") as "switch-active" | "promote-master";
        if (name === "switch-active" && force) args.push("--force");
        const code = await runInherited(lab, "gate", name, args);
        if (code !== 0) return code;
      }
      return 0;
    }
    case "deploy": {
      const color = parseColor(rest[0]);
      const release = rest[1];
      if (release === undefined)
        throw new UsageError("missing <release>: e.g. placeholder, or a git ref of appRepository");
      if (!isReleaseRef(release)) {
        throw new UsageError(
          `invalid <release> "${release}": letters, digits, '.', '_', '-' or '/' (no '..')`,
        );
      }
      noMore(rest.slice(2), "deploy");
      requireLab(lab);
      return runInherited(lab, color, "deploy", [release]);
    }
    case "kill":
    case "start": {
      const node = parseNode(rest[0]);
      const services = pickServices(lab, node, rest[1]);
      noMore(rest.slice(2), command);
      requireLab(lab);
      for (const s of services) {
        if (command === "kill") {
          const pid = lab.pid(node, s.unit);
          if (pid === null) log(`${node}/${s.name}: not running`);
          else {
            lab.signal(node, s.unit, "SIGKILL");
            log(`${node}/${s.name}: SIGKILL (pid ${pid})`);
          }
        } else {
          await lab.start(node, s.unit);
          log(`${node}/${s.name}: running (pid ${lab.pid(node, s.unit)})`);
        }
      }
      return 0;
    }
    case "freeze":
    case "thaw": {
      const node = parseNode(rest[0]);
      noMore(rest.slice(1), command);
      requireLab(lab);
      const pids = lab.nodePids(node);
      signalPids(pids, command === "freeze" ? "SIGSTOP" : "SIGCONT");
      log(
        `${node}: ${command === "freeze" ? "SIGSTOP" : "SIGCONT"} to ${pids.length} processes (${pids.join(" ")})`,
      );
      return 0;
    }
    case "alerts": {
      const f = flags(rest, ["--json"], "alerts");
      requireLab(lab);
      const r = await firingAlerts(lab);
      console.log(f.has("--json") ? JSON.stringify(r, null, 2) : formatAlerts(r));
      return COLORS.some((c) => r.sources[c] === "ok") ? 0 : 1;
    }
    case "down": {
      noMore(rest, "down");
      const n = fs.existsSync(lab.dir) ? await down(lab, log) : 0;
      log(`down: ${n} processes stopped`);
      return 0;
    }
    case "bench-startup": {
      const runs = parseStartupArgs(rest);
      const r = await benchStartup(runs, log);
      console.log(
        [
          `cold lab start, ${r.runs} run(s) each (seconds): with monitoring ${r.withMonitoringSeconds.join(", ")}; ` +
            `without ${r.withoutMonitoringSeconds.join(", ")}`,
          `median with monitoring ${r.medianWithSeconds} s, without ${r.medianWithoutSeconds} s, ` +
            `difference ${r.medianDifferenceSeconds} s`,
        ].join("\n"),
      );
      return 0;
    }
    case "bench": {
      const { json, repeat, only } = parseBenchArgs(rest);
      requireLab(lab);
      cleanupOnInterrupt = async () => {
        await down(lab, log);
      };
      const quiet = json ? () => undefined : log;
      const file = path.join(lab.dir, BENCH_FILE);
      if (repeat === 1) {
        const results = await runBench(lab, quiet, only);
        cleanupOnInterrupt = undefined;
        fs.writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
        console.log(
          json ? JSON.stringify(results, null, 2) : `${formatBench(results)}\n\nwritten to ${file}`,
        );
        return results.scenarios.every((s) => s.error === null) ? 0 : 1;
      }
      const results = await runBenchRepeated(lab, repeat, quiet, only);
      cleanupOnInterrupt = undefined;
      fs.writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
      console.log(
        json ? JSON.stringify(results, null, 2) : `${formatRepeatedBench(results)}\n\nwritten to ${file}`,
      );
      return results.runs.every((r) => r.scenarios.every((s) => s.error === null)) ? 0 : 1;
    }
  }
  return 0;
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  if (childRunning && cleanupOnInterrupt === undefined) return;
  console.error(`\nlab: ${signal}: cleaning up`);
  const cleanup = cleanupOnInterrupt;
  cleanupOnInterrupt = undefined;
  activeLab?.abort();
  // The child scripts got the same Ctrl-C and end on their own; then undo what was started.
  void (cleanup ? cleanup() : Promise.resolve()).finally(() => process.exit(130));
}

process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

/** Once interrupted with a cleanup to run, the signal handler decides when the process exits. */
const finish = (code: number): void => {
  if (interrupted && cleanupOnInterrupt === undefined && !childRunning) return;
  process.exit(code);
};

main(process.argv.slice(2)).then(
  (code) => finish(code),
  (err: unknown) => {
    if (interrupted) return finish(130);
    if (err instanceof UsageError) {
      console.error(`lab: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`lab: ${(err as Error).message}`);
    const lab = new Lab(labDir(), { createSecrets: false });
    if (process.env.YQ_LAB_VERBOSE === "1")
      for (const n of nodeNames(lab.layout)) console.error(logTails(lab, n));
    process.exit(1);
  },
);
