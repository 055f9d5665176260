/**
 * `npm run lab -- <command>`: the local lab. Plain `npm run lab` is `up`. See docs/lab.md.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError } from "../cli/args";
import { switchSteps } from "../bluegreen/commands";
import { COLORS, NodeName, nodeNames } from "../cloud-init/layout";
import { LAB_USAGE, labCommandUsage, parseLabArgs } from "./cli-args";
import { findPortConflict, labListeners } from "./ports";
import { Lab } from "./lab";
import { signalPids } from "./processes";
import { findService, nodeServices, serviceNames } from "./services";
import { labDir } from "./layout";
import { firingAlerts, formatAlerts } from "./monitoring";
import { heal, healAll, partition } from "./partition";
import { down, logTails, up } from "./lifecycle";
import { formatEndpoints, formatStatus, status } from "./status";
import { ensurePrograms, installInstructions } from "./prereqs";
import {
  BENCH_FILE,
  formatBench,
  formatRepeatedBench,
  missedGoals,
  runBench,
  runBenchRepeated,
} from "./bench";

function log(line: string): void {
  console.log(`lab: ${line}`);
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
  // Everything about the arguments is validated before anything is touched.
  const inv = parseLabArgs(argv);
  if (inv.command === "help") {
    console.log(inv.topic ? labCommandUsage(inv.topic) : LAB_USAGE);
    return 0;
  }
  // No secrets are generated except by `up`: a bad command line changes nothing.
  const lab = new Lab(labDir(), { createSecrets: inv.command === "up" });
  activeLab = lab;
  switch (inv.command) {
    case "up": {
      requirePrograms();
      const conflict = await findPortConflict(labListeners(lab));
      if (conflict) {
        console.error(`lab: up: ${conflict}`);
        return 1;
      }
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
        await up(lab, log, { monitoring: inv.monitoring });
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
      requireLab(lab);
      const s = await status(lab);
      console.log(inv.json ? JSON.stringify(s, null, 2) : formatStatus(s));
      return 0;
    }
    case "switch": {
      const { color, force } = inv;
      const drainSeconds = inv.drainSeconds ?? lab.layout.drainSeconds;
      const follows = inv.promote;
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
      requireLab(lab);
      return runInherited(lab, inv.color, "deploy", [inv.release]);
    }
    case "kill":
    case "start": {
      const { node } = inv;
      const services = pickServices(lab, node, inv.service);
      requireLab(lab);
      for (const s of services) {
        if (inv.command === "kill") {
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
      const { node } = inv;
      requireLab(lab);
      const pids = lab.nodePids(node);
      const signal = inv.command === "freeze" ? "SIGSTOP" : "SIGCONT";
      signalPids(pids, signal);
      log(`${node}: ${signal} to ${pids.length} processes (${pids.join(" ")})`);
      return 0;
    }
    case "partition":
    case "heal": {
      const { node } = inv;
      requireLab(lab);
      if (inv.command === "partition") partition(lab.layout, node);
      else heal(lab.layout, node);
      log(`${node}: ${inv.command === "partition" ? "cut off from" : "joined again with"} the other nodes`);
      return 0;
    }
    case "down": {
      healAll(lab.layout);
      const n = fs.existsSync(lab.dir) ? await down(lab, log) : 0;
      log(`down: ${n} processes stopped`);
      return 0;
    }
    case "alerts": {
      requireLab(lab);
      const r = await firingAlerts(lab);
      console.log(inv.json ? JSON.stringify(r, null, 2) : formatAlerts(r));
      return COLORS.some((c) => r.sources[c] === "ok") ? 0 : 1;
    }
    case "bench": {
      const { json, repeat, only } = inv;
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
        return reportMissed(missedGoals(results));
      }
      const results = await runBenchRepeated(lab, repeat, quiet, only);
      cleanupOnInterrupt = undefined;
      fs.writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
      console.log(
        json ? JSON.stringify(results, null, 2) : `${formatRepeatedBench(results)}\n\nwritten to ${file}`,
      );
      return reportMissed(missedGoals(results));
    }
  }
}

/** Exit 1, naming each missed goal and failed scenario on stderr; 0 when there is none. */
function reportMissed(missed: readonly string[]): number {
  if (missed.length === 0) return 0;
  console.error(`lab: bench: ${missed.length} goal${missed.length === 1 ? "" : "s"} missed:`);
  for (const line of missed) console.error(`  ${line}`);
  return 1;
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
      console.error(`lab: ${err.message}`);
      process.exit(2);
    }
    console.error(`lab: ${(err as Error).message}`);
    const lab = new Lab(labDir(), { createSecrets: false });
    if (process.env.YQ_LAB_VERBOSE === "1")
      for (const n of nodeNames(lab.layout)) console.error(logTails(lab, n));
    process.exit(1);
  },
);
