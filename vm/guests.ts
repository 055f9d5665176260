/**
 * The running guests: commands through the guest agent, the wait for cloud-init (with progress
 * lines: the last console line every 30 s), status, and SSH as the stack's commands use it (user and
 * key from the program, the gate as jump host for the engines).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { NodeName } from "../cloud-init/layout";
import { alive, log, readPid, runDir } from "./machine";
import { GATE, type ProgramCommand, type ProgramView } from "./program";
import { agentUp, guestExec, type ExecResult } from "./qga";

export const qgaSocket = (name: NodeName): string => path.join(runDir(name), "qga.sock");

export function inGuest(name: NodeName, command: string, timeoutSeconds = 60): Promise<ExecResult> {
  return guestExec(qgaSocket(name), command, timeoutSeconds);
}

export function running(name: NodeName): boolean {
  return alive(readPid(path.join(runDir(name), "qemu.pid")));
}

function lastConsoleLine(name: NodeName): string {
  const file = path.join(runDir(name), "serial.log");
  if (!fs.existsSync(file)) return "";
  const text = fs.readFileSync(file, "latin1").slice(-4000);
  const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");
  const lines = text
    .replace(ansi, "")
    .split(/\r?\n/)
    .map((l) => l.trim());
  return (lines.filter((l) => l !== "").pop() ?? "").slice(0, 110);
}

export interface BootTiming {
  readonly agentSeconds: number;
  readonly doneSeconds: number;
  readonly status: string;
}

/**
 * cloud-init's own verdict once boot-finished exists. On a loaded machine `cloud-init status` (Python
 * under software emulation) has once answered nothing right after boot-finished appeared, so it is
 * asked again, a bounded number of times, until it names a final state; otherwise its output is
 * returned as it was, and the caller fails with it.
 */
async function finalStatus(name: NodeName): Promise<string> {
  let last = "";
  for (let attempt = 0; attempt < 6; attempt++) {
    const st = await inGuest(name, "cloud-init status 2>&1", 120).catch((e: unknown) => ({
      stdout: e instanceof Error ? e.message : String(e),
    }));
    const status = /^status: (\S+)/m.exec(st.stdout)?.[1];
    if (status !== undefined && status !== "running") return status;
    last = st.stdout.trim().replace(/\s+/g, " ").slice(0, 200);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
  return `unknown (cloud-init status said: ${last})`;
}

/** Waits until cloud-init has finished on `name` (boot-finished), up to `limitSeconds`. */
export async function waitCloudInit(name: NodeName, limitSeconds = 2400): Promise<BootTiming> {
  const start = Number(fs.readFileSync(path.join(runDir(name), "t-start"), "utf8"));
  const elapsed = (): number => Math.round((Date.now() - start) / 1000);
  let agent = -1;
  let lastReport = 0;
  for (;;) {
    if (!running(name)) throw new Error(`${name}: qemu is not running (see ${runDir(name)}/serial.log)`);
    if (elapsed() > limitSeconds) throw new Error(`${name}: cloud-init not done after ${limitSeconds}s`);
    if (agent < 0 && (await agentUp(qgaSocket(name), 2000))) agent = elapsed();
    if (agent >= 0) {
      const done = await inGuest(name, "test -f /var/lib/cloud/instance/boot-finished", 20).catch(
        () => undefined,
      );
      if (done?.code === 0) break;
    }
    if (elapsed() - lastReport >= 30) {
      lastReport = elapsed();
      log(
        `${name}: ${lastReport}s, ${agent < 0 ? "booting" : "cloud-init running"}: ${lastConsoleLine(name)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  const doneSeconds = elapsed();
  const timing = { agentSeconds: agent, doneSeconds, status: await finalStatus(name) };
  fs.writeFileSync(path.join(runDir(name), "timing.json"), JSON.stringify(timing));
  log(`${name}: agent after ${agent}s, cloud-init '${timing.status}' after ${doneSeconds}s`);
  return timing;
}

/** Waits (a bounded loop) until `name` answers its agent again, e.g. after a power-on or a reboot. */
export async function waitAgent(name: NodeName, limitSeconds: number): Promise<number> {
  const start = Date.now();
  while ((Date.now() - start) / 1000 < limitSeconds) {
    if (running(name) && (await agentUp(qgaSocket(name), 2000))) return (Date.now() - start) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  throw new Error(`${name}: no guest agent after ${limitSeconds}s`);
}

const SSH_OPTIONS = [
  "-o",
  "IdentitiesOnly=yes",
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "LogLevel=ERROR",
  "-o",
  "BatchMode=yes",
  "-o",
  "ConnectTimeout=15",
];

/**
 * ssh arguments for a command of the program: its user, the stack's key, the gate as jump host
 * when the program gives one. The program's gate address is its public IP (mocked); here the gate is
 * reached at its private address, the only difference from a run against OCI.
 */
export function sshArgs(
  view: ProgramView,
  keyFile: string,
  target: Pick<ProgramCommand, "host" | "user" | "proxyHost">,
): string[] {
  const gatePublic = String(view.outputs["gatePublicIp"] ?? "");
  const local = (host: string): string => (host === gatePublic ? view.nodes[GATE].privateIp : host);
  const base = ["-i", keyFile, ...SSH_OPTIONS];
  const proxy =
    target.proxyHost === undefined
      ? []
      : ["-o", `ProxyCommand=ssh ${base.join(" ")} -W %h:%p ${target.user}@${local(target.proxyHost)}`];
  return [...base, ...proxy, `${target.user}@${local(target.host)}`];
}

/** Runs one of the program's remote commands, its `create` text unchanged, as @pulumi/command does. */
export function runCommand(
  view: ProgramView,
  keyFile: string,
  command: ProgramCommand,
  timeoutSeconds = 300,
): ExecResult {
  const r = spawnSync("ssh", [...sshArgs(view, keyFile, command), command.create], {
    encoding: "utf8",
    timeout: timeoutSeconds * 1000,
  });
  return { code: r.status ?? 124, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}
