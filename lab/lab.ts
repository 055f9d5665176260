/**
 * The lab's core: which units run on which node, the one process manager (`lab/service-control.sh`,
 * the same shim the operations scripts call), and the node scripts (`setup.sh`, `health-check.sh`,
 * `switch-active.sh`, `deploy.sh`) run exactly as cloud-init installs them.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { COLORS, Color, Layout, NODE_NAMES, NodeName } from "../cloud-init/layout";
import { SERVICE_CONTROL, labLayout } from "./layout";

/** A service as the CLI names it, and the unit the shim runs for it. */
export interface LabService {
  /** CLI name: `haproxy`, `valkey`, `sentinel`, or an app service name (`frontend`, ...). */
  readonly name: string;
  readonly unit: string;
  /** The port it serves, when it serves one. */
  readonly port: number | null;
}

/** Every service of `node`, in start order. */
export function nodeServices(layout: Layout, node: NodeName): LabService[] {
  const common: LabService[] = [
    { name: "valkey", unit: "valkey-server", port: layout.ports.valkey },
    { name: "sentinel", unit: "valkey-sentinel", port: layout.ports.sentinel },
  ];
  if (node === "gate") return [...common, { name: "haproxy", unit: "haproxy", port: layout.ports.http }];
  return [
    ...common,
    ...layout.app.services.map((s, i) => ({
      name: s.name,
      unit: `yquant-${s.name}`,
      port: i === 0 ? layout.ports.app : null,
    })),
  ];
}

/** The app service that serves the app port (`app` is its alias on the command line). */
export function httpService(layout: Layout): string {
  return layout.app.services[0]?.name ?? "frontend";
}

/** Resolves a CLI service name (or alias `app`) on `node`; undefined when `node` has no such service. */
export function findService(layout: Layout, node: NodeName, name: string): LabService | undefined {
  const wanted = name === "app" ? httpService(layout) : name;
  return nodeServices(layout, node).find((s) => s.name === wanted || s.unit === wanted);
}

export function serviceNames(layout: Layout, node: NodeName): string[] {
  const names = nodeServices(layout, node).map((s) => s.name);
  return node === "gate" ? names : [...names, "app"];
}

/** The lab: a layout plus helpers bound to it. */
export class Lab {
  readonly layout: Layout;
  readonly dir: string;

  /** `createSecrets` false: a lab that was never brought up gets empty secrets instead of new ones. */
  constructor(dir: string, options: { layout?: Layout; createSecrets?: boolean } = {}) {
    this.dir = dir;
    this.layout = options.layout ?? labLayout({ dir, createSecrets: options.createSecrets ?? true });
  }

  root(node: NodeName): string {
    return this.layout.roots[node];
  }

  address(node: NodeName): string {
    return this.layout.nodes[node].privateIp;
  }

  script(node: NodeName, name: "setup" | "deploy" | "health-check" | "switch-active"): string {
    return path.join(this.root(node), "opt", "yquant", "bin", `${name}.sh`);
  }

  /** Runs the shim synchronously; returns its exit status and output. */
  shim(node: NodeName, args: readonly string[]): { status: number; stdout: string; stderr: string } {
    const result = spawnSync(SERVICE_CONTROL, [...args], {
      env: { ...process.env, YQ_ROOT: this.root(node) },
      encoding: "utf8",
      timeout: 60_000,
    });
    return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
  }

  /** Pid of a unit, or null when it is not running. */
  pid(node: NodeName, unit: string): number | null {
    if (!fs.existsSync(this.root(node))) return null;
    const r = this.shim(node, ["pid", unit]);
    const pid = Number(r.stdout.trim());
    return r.status === 0 && Number.isInteger(pid) && pid > 0 ? pid : null;
  }

  start(node: NodeName, unit: string): void {
    const r = this.shim(node, ["start", unit]);
    if (r.status !== 0) throw new Error(`start ${node}/${unit} failed: ${(r.stderr || r.stdout).trim()}`);
  }

  stop(node: NodeName, unit: string): void {
    const r = this.shim(node, ["stop", unit]);
    if (r.status !== 0) throw new Error(`stop ${node}/${unit} failed: ${(r.stderr || r.stdout).trim()}`);
  }

  /** Signals a unit's process group (default SIGKILL). Returns false when it was not running. */
  signal(node: NodeName, unit: string, signal = "KILL"): boolean {
    return this.shim(node, ["kill", unit, signal]).status === 0;
  }

  /**
   * SIGKILLs a unit's process group directly from this process (no shim round trip), so the time taken
   * just before is the moment of the kill. Returns that time (performance.now()), or null when the unit
   * was not running.
   */
  killNow(node: NodeName, unit: string): number | null {
    const pid = this.pid(node, unit);
    if (pid === null) return null;
    const at = performance.now();
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      process.kill(pid, "SIGKILL");
    }
    return at;
  }

  /** Every pid of a node's units (their process groups: HAProxy workers, app children). */
  nodePids(node: NodeName): number[] {
    const pids: number[] = [];
    for (const s of nodeServices(this.layout, node)) {
      const pid = this.pid(node, s.unit);
      if (pid !== null) pids.push(...processGroup(pid));
    }
    return pids;
  }

  /** Runs a node script to completion (bounded), returning status and output. */
  runScript(
    node: NodeName,
    name: "setup" | "deploy" | "health-check" | "switch-active",
    args: readonly string[] = [],
    timeoutMs = 120_000,
  ): { status: number; stdout: string; stderr: string } {
    const result = spawnSync(this.script(node, name), [...args], {
      encoding: "utf8",
      timeout: timeoutMs,
      env: { ...process.env },
      killSignal: "SIGTERM",
    });
    return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
  }

  /** Runs a node script asynchronously; resolves with its status, output and wall time. */
  runScriptAsync(
    node: NodeName,
    name: "setup" | "deploy" | "health-check" | "switch-active",
    args: readonly string[] = [],
    timeoutMs = 120_000,
  ): Promise<{ status: number; stdout: string; stderr: string; startedAt: number; endedAt: number }> {
    return new Promise((resolve) => {
      const startedAt = performance.now();
      const child = spawn(this.script(node, name), [...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ status: code ?? 1, stdout, stderr, startedAt, endedAt: performance.now() });
      });
    });
  }

  /** The active color from the gate's state file, or null. */
  activeColor(): Color | null {
    try {
      const text = fs
        .readFileSync(path.join(this.root("gate"), "var/lib/yquant/active-color"), "utf8")
        .trim();
      return (COLORS as readonly string[]).includes(text) ? (text as Color) : null;
    } catch {
      return null;
    }
  }

  /** The node a private address belongs to. */
  nodeOf(address: string): NodeName | null {
    return NODE_NAMES.find((n) => this.address(n) === address) ?? null;
  }

  liveUrl(pathname = "/"): string {
    return `http://${this.layout.publicBind}:${this.layout.ports.http}${pathname}`;
  }
}

/** The pids of the process group led by `pgid` (the unit's session, created by the shim). */
export function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Resident set size of a pid in bytes (VmRSS of /proc/<pid>/status), 0 when gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Sends a signal to every pid, ignoring the ones already gone. */
export function signalPids(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

/** A bounded poll: resolves with the value when `probe` returns non-undefined, or undefined on timeout. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (performance.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `execFileSync` with a bound, for short helper commands. */
export function run(cmd: string, args: readonly string[], timeoutMs = 10_000): string {
  return execFileSync(cmd, [...args], {
    encoding: "utf8",
    timeout: timeoutMs,
    stdio: ["ignore", "pipe", "pipe"],
  });
}
