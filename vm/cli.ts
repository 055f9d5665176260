/**
 * `npm run vm -- <command>`: the three nodes as real VMs (qemu, real systemd and cloud-init) booted
 * from the user data the Pulumi program passes in metadata.user_data. See docs/vm.md.
 *
 *   up [--nodes gate,blue,green]   image (cached) and local package repository, network, boot, wait
 *   status [--json]                each node: qemu, guest agent, cloud-init status, boot timing
 *   ssh <node> [command...]        SSH as the stack's commands do (user, key, the gate as jump host)
 *   down                           stops every qemu and dnsmasq started here, removes the namespace
 *   test [--full] [--keep] [--reuse]  the VM suite (tests/vm/suite.ts); --full adds the reboots,
 *                                  --keep leaves the VMs running, --reuse tests the running ones
 *
 * Needs root (namespaces, taps, mmdebstrap) and qemu. Everything runs in the network namespace
 * NETNS: the command re-executes itself there.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { NODE_NAMES, type NodeName } from "../cloud-init/layout";
import { NETNS, REPO, boot, log, netUp, runDir, stopAll, trySh, workDir } from "./machine";
import { inGuest, running, sshArgs, waitCloudInit } from "./guests";
import { stackProgram, stackSecrets, userDataPackages } from "./stack";
import { GATE, type ProgramView } from "./program";

const USAGE = `usage: npm run vm -- up [--nodes gate,blue,green] | status [--json] | ssh <node> [command...] | down | test [--full] [--keep] [--reuse] [--nodes ...]`;

/** Why this machine cannot run the VMs, or undefined when it can. */
export function cannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (network namespaces, taps and mmdebstrap need it)";
  for (const tool of [
    "qemu-system-x86_64",
    "qemu-img",
    "mmdebstrap",
    "dnsmasq",
    "cloud-localds",
    "genisoimage",
  ]) {
    if (!trySh("sh", ["-c", `command -v ${tool}`]))
      return `no ${tool} (bash .ci/install-vm-deps.sh installs it)`;
  }
  if (!fs.existsSync("/dev/net/tun")) return "no /dev/net/tun (the guests' taps need it)";
  if (!fs.existsSync("/etc/apt/sources.list.d/debian.sources"))
    return "no /etc/apt/sources.list.d/debian.sources";
  return undefined;
}

/** Re-executes this command inside NETNS (created here when missing); returns its exit code. */
function inNamespace(): number | undefined {
  if (process.env["YQ_VM_NETNS"] === NETNS) return undefined;
  if (!trySh("ip", ["netns", "exec", NETNS, "true"])) trySh("ip", ["netns", "add", NETNS]);
  const r = spawnSync(
    "ip",
    ["netns", "exec", NETNS, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    {
      stdio: "inherit",
      env: { ...process.env, YQ_VM_NETNS: NETNS },
    },
  );
  return r.status ?? 1;
}

export function parseNodes(value: string | undefined): NodeName[] {
  if (value === undefined) return [...NODE_NAMES];
  const names = value.split(",").filter((n) => n !== "");
  for (const n of names) {
    if (!(NODE_NAMES as readonly string[]).includes(n)) {
      throw new Error(`--nodes: unknown node "${n}"; allowed: ${NODE_NAMES.join(", ")}`);
    }
  }
  return names as NodeName[];
}

/**
 * Builds the image and the local package repository, or finds them cached by their key. The build
 * needs Debian's package sources, which NETNS cannot reach: `main` calls this before it re-executes
 * itself there, and the call inside NETNS (from `up`) then only finds the cache.
 */
function buildImage(view: ProgramView): void {
  const gate = userDataPackages(view.nodes[GATE].userData).join(" ");
  const engine = userDataPackages(view.nodes.blue.userData).join(" ");
  const image = spawnSync("bash", [path.join(REPO, "vm/image.sh"), workDir(), gate, engine], {
    stdio: "inherit",
  });
  if (image.status !== 0) throw new Error("vm: the image build failed");
}

/** Builds (or reuses) the image and boots `names` from the program's user data; waits for cloud-init. */
export async function up(view: ProgramView, names: readonly NodeName[]): Promise<void> {
  const t0 = Date.now();
  buildImage(view);
  netUp(Object.values(view.nodes), names);
  for (const name of names) {
    const pid = boot(view.nodes[name], name, true);
    log(`${name}: qemu pid ${pid}, ${view.nodes[name].privateIp}`);
  }
  const timings = await Promise.all(names.map((n) => waitCloudInit(n)));
  log(`up: ${names.join(", ")} finished cloud-init ${Math.round((Date.now() - t0) / 1000)}s after start`);
  const bad = names.filter((_, i) => timings[i]?.status !== "done");
  if (bad.length > 0) throw new Error(`vm: cloud-init did not end 'done' on ${bad.join(", ")}`);
}

export function down(): void {
  stopAll(NODE_NAMES);
  if (trySh("ip", ["netns", "exec", NETNS, "true"])) trySh("ip", ["netns", "delete", NETNS]);
  log(`down: namespace ${NETNS} removed`);
}

async function status(json: boolean): Promise<void> {
  const rows = [];
  for (const name of NODE_NAMES) {
    const qemu = running(name);
    const ci = qemu
      ? await inGuest(name, "cloud-init status | sed -n 's/^status: //p'", 60).catch(() => undefined)
      : undefined;
    const timingFile = path.join(runDir(name), "timing.json");
    const timing = fs.existsSync(timingFile)
      ? (JSON.parse(fs.readFileSync(timingFile, "utf8")) as unknown)
      : null;
    rows.push({
      node: name,
      running: qemu,
      agent: ci !== undefined,
      cloudInit: ci?.stdout.trim() ?? null,
      timing,
    });
  }
  if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else
    for (const r of rows)
      process.stdout.write(
        `${r.node.padEnd(6)} ${r.running ? "running" : "stopped"}  cloud-init ${r.cloudInit ?? "-"}\n`,
      );
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nodes: { type: "string" },
      json: { type: "boolean" },
      full: { type: "boolean" },
      keep: { type: "boolean" },
      reuse: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === "help" || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (!["up", "status", "ssh", "down", "test"].includes(command)) {
    process.stderr.write(`vm: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  const why = cannotRun();
  if (command === "test" && why !== undefined) {
    process.stdout.write(`SKIPPED: the VM suite cannot run here: ${why}\n`);
    return 0;
  }
  if (why !== undefined) {
    process.stderr.write(`vm: ${why}\n`);
    return 1;
  }
  if (command === "down") {
    down();
    return 0;
  }
  if (command === "up" || (command === "test" && values.reuse !== true)) {
    buildImage(await stackProgram(stackSecrets()));
  }
  const code = inNamespace();
  if (code !== undefined) {
    if (command === "test" && !values.keep) down();
    return code;
  }
  if (command === "test") {
    const { runSuite } = await import("../tests/vm/suite");
    // Node exits 0 once its event loop is empty, even while a check is still awaited (run 3 ended so,
    // silently, after the power-off's HTTP check): that is a failure, and it must say so.
    let finished = false;
    process.once("beforeExit", () => {
      if (finished) return;
      process.stdout.write("FAIL suite: ended before its checks finished (an awaited step never settled)\n");
      process.exitCode = 1;
    });
    const code = await runSuite({
      full: values.full === true,
      reuse: values.reuse === true,
      ...(values.nodes === undefined ? {} : { nodes: parseNodes(values.nodes) }),
    });
    finished = true;
    return code;
  }
  const secrets = stackSecrets();
  const view = await stackProgram(secrets);
  if (command === "up") await up(view, parseNodes(values.nodes));
  else if (command === "status") await status(values.json === true);
  else {
    const [node, ...cmd] = rest;
    if (node === undefined || !(NODE_NAMES as readonly string[]).includes(node)) {
      process.stderr.write(`vm ssh: name a node: ${NODE_NAMES.join(", ")}\n`);
      return 2;
    }
    const n = node as NodeName;
    const target = {
      host: view.nodes[n].privateIp,
      user: "ubuntu",
      ...(n === GATE ? {} : { proxyHost: view.nodes[GATE].privateIp }),
    };
    return (
      spawnSync("ssh", [...sshArgs(view, secrets.keyFile, target), ...cmd], { stdio: "inherit" }).status ?? 1
    );
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`vm: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
