/**
 * The lab's core: a layout bound to one directory, the one process manager (`lab/service-control.sh`,
 * the same shim the operations scripts call), and the node scripts (`setup.sh`, `health-check.sh`,
 * `switch-active.sh`, `deploy.sh`) run exactly as cloud-init installs them.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Color, Layout, NodeName, nodeNames, isColor } from "../cloud-init/layout";
import { haproxyPaths } from "../cloud-init/haproxy";
import { SCRIPT_NAMES } from "../cloud-init/user-data";
import { COMMAND_DELIVERED_SCRIPTS, deliveredScript } from "../cloud-init/node-files";
import { SERVICE_CONTROL, labLayout } from "./layout";
import { processGroup, runAsync } from "./processes";
import { nodeServices } from "./services";

/** A node script as cloud-init installs it under /opt/yquant/bin. */
export type ScriptName = (typeof SCRIPT_NAMES)[number];

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

  script(node: NodeName, name: ScriptName): string {
    return path.join(this.root(node), "opt", "yquant", "bin", `${name}.sh`);
  }

  /**
   * Runs the shim (asynchronously: the CLI's event loop must stay free, or tsx, which relays Ctrl-C
   * to it, kills it before it can clean up). Resolves with its exit status and output.
   */
  shim(
    node: NodeName,
    args: readonly string[],
    timeoutMs = 60_000,
  ): Promise<{ status: number; stdout: string; stderr: string }> {
    return runAsync(SERVICE_CONTROL, args, { ...process.env, YQ_ROOT: this.root(node) }, timeoutMs);
  }

  /**
   * Pid of a unit, or null when it is not running: the shim's pid file (`<root>/run/lab/<unit>.pid`)
   * naming a live process that is not a zombie, the same test as the shim's `is-active`.
   */
  pid(node: NodeName, unit: string): number | null {
    try {
      const pid = Number(
        fs.readFileSync(path.join(this.root(node), "run", "lab", `${unit}.pid`), "utf8").trim(),
      );
      if (!Number.isInteger(pid) || pid <= 0) return null;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
      return state === "Z" || state === "X" ? null : pid;
    } catch {
      return null;
    }
  }

  private aborted = false;

  /** After Ctrl-C: nothing may be started or run any more (cleanup is stopping everything). */
  abort(): void {
    this.aborted = true;
  }

  async start(node: NodeName, unit: string): Promise<void> {
    if (this.aborted) throw new Error(`start ${node}/${unit}: the lab command was interrupted`);
    const r = await this.shim(node, ["start", unit]);
    if (r.status !== 0) throw new Error(`start ${node}/${unit} failed: ${(r.stderr || r.stdout).trim()}`);
  }

  async stop(node: NodeName, unit: string): Promise<void> {
    const r = await this.shim(node, ["stop", unit]);
    if (r.status !== 0) throw new Error(`stop ${node}/${unit} failed: ${(r.stderr || r.stdout).trim()}`);
  }

  /** Signals a unit's process group (default SIGKILL), by its pid. Returns false when it was not running. */
  signal(node: NodeName, unit: string, signal: NodeJS.Signals = "SIGKILL"): boolean {
    const pid = this.pid(node, unit);
    if (pid === null) return false;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        return false;
      }
    }
    return true;
  }

  /**
   * SIGKILLs a unit's process group at once, so the time taken just before is the moment of the
   * kill. Returns that time (performance.now()), or null when the unit was not running.
   */
  killNow(node: NodeName, unit: string): number | null {
    if (this.pid(node, unit) === null) return null;
    const at = performance.now();
    this.signal(node, unit, "SIGKILL");
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

  /**
   * Installs the scripts the switch command delivers to the gate (COMMAND_DELIVERED_SCRIPTS), as that
   * command does: the same text, mode 0755, replaced atomically. `up` and every lab switch run it.
   */
  installDeliveredScripts(): void {
    for (const name of COMMAND_DELIVERED_SCRIPTS) {
      const target = this.script("gate", name);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(`${target}.new`, deliveredScript(name), { mode: 0o755 });
      fs.chmodSync(`${target}.new`, 0o755);
      fs.renameSync(`${target}.new`, target);
    }
  }

  /** Runs a node script asynchronously; resolves with its status, output and wall time. */
  async runScript(
    node: NodeName,
    name: ScriptName,
    args: readonly string[] = [],
    timeoutMs = 120_000,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<{ status: number; stdout: string; stderr: string; startedAt: number; endedAt: number }> {
    if (this.aborted) throw new Error(`${name}.sh on ${node}: the lab command was interrupted`);
    const startedAt = performance.now();
    const result = await runAsync(this.script(node, name), args, env, timeoutMs);
    return { ...result, startedAt, endedAt: performance.now() };
  }

  /** One command on the gate's HAProxy admin socket; its answer, or null when HAProxy does not answer. */
  adminCommand(command: string, timeoutMs = 2000): Promise<string | null> {
    const socket = haproxyPaths(this.layout).adminSocket;
    return new Promise((resolve) => {
      let out = "";
      const conn = net.connect(socket);
      const timer = setTimeout(() => {
        conn.destroy();
        resolve(null);
      }, timeoutMs);
      conn.on("connect", () => conn.write(`${command}\n`));
      conn.on("data", (d: Buffer) => (out += d.toString()));
      conn.on("error", () => {
        clearTimeout(timer);
        resolve(null);
      });
      conn.on("close", () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
  }

  /** The color HAProxy routes live traffic to now (its runtime switch map), or null. */
  async activeColor(): Promise<Color | null> {
    const out = await this.adminCommand(`show map ${haproxyPaths(this.layout).switchMap}`);
    const live = /^\S+ live (\S+)$/m.exec(out ?? "")?.[1];
    return isColor(live) ? live : null;
  }

  /** The live color in the gate's switch map file (what a reload or restart would load), or null. */
  activeColorOnDisk(): Color | null {
    try {
      const text = fs.readFileSync(haproxyPaths(this.layout).switchMap, "utf8");
      const live = /^live (\S+)$/m.exec(text)?.[1];
      return isColor(live) ? live : null;
    } catch {
      return null;
    }
  }

  /** The node a private address belongs to. */
  nodeOf(address: string): NodeName | null {
    return nodeNames(this.layout).find((n) => this.address(n) === address) ?? null;
  }

  liveUrl(pathname = "/"): string {
    return `http://${this.layout.publicBind}:${this.layout.ports.http}${pathname}`;
  }
}
