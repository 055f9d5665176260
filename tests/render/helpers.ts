/**
 * Process helpers of the rendered-configuration tests (temp dirs, materialised nodes, locks,
 * children); their Layouts are the one fixture set's (tests/fixtures.ts).
 */
import { ChildProcess, execFileSync, spawnSync, SpawnSyncReturns } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Layout, NodeName } from "../../cloud-init/layout";
import { renderUserData } from "../../cloud-init/user-data";
import { parseWriteFiles } from "../../cloud-init/write-files";

export { cloudLayout, localLayout } from "../fixtures";

/**
 * The INPUT chain of OCI's Ubuntu image (what the iptables stand-in starts from): the host firewall
 * inserts its ACCEPTs above the final REJECT.
 */
export const IMAGE_INPUT_RULES: readonly string[] = [
  "-m state --state RELATED,ESTABLISHED -j ACCEPT",
  "-p icmp -j ACCEPT",
  "-i lo -j ACCEPT",
  "-p udp --sport 123 -j ACCEPT",
  "-p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT",
  "-j REJECT --reject-with icmp-host-prohibited",
];

export const REPO = path.resolve(__dirname, "../..");
export const SCRIPTS_DIR = path.join(REPO, "cloud-init/scripts");

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `yq-render-${prefix}-`));
}

/** Writes every write_files entry of the node's user data (parsed back, as the lab does). */
export function materialise(layout: Layout, node: NodeName): void {
  for (const file of parseWriteFiles(renderUserData(layout, node))) {
    fs.mkdirSync(path.dirname(file.path), { recursive: true });
    fs.writeFileSync(file.path, file.content, { mode: parseInt(file.permissions, 8) });
    fs.chmodSync(file.path, parseInt(file.permissions, 8));
  }
}

/** A throwaway self-signed PEM (certificate + key) for `haproxy -c`. */
export function writeSelfSignedPem(target: string): void {
  const work = tempDir("pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=yquant-test",
      "-keyout",
      path.join(work, "key.pem"),
      "-out",
      path.join(work, "cert.pem"),
    ],
    { stdio: "ignore" },
  );
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(
    target,
    fs.readFileSync(path.join(work, "cert.pem"), "utf8") +
      fs.readFileSync(path.join(work, "key.pem"), "utf8"),
    { mode: 0o600 },
  );
  fs.rmSync(work, { recursive: true, force: true });
}

/** sha256 of every file under `dir` (relative path -> digest), to prove nothing changed. */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        out[path.relative(dir, full)] = crypto
          .createHash("sha256")
          .update(fs.readFileSync(full))
          .digest("hex");
      }
    }
  };
  walk(dir);
  return out;
}

export function run(command: string, args: readonly string[], timeoutMs = 30_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs });
}

/**
 * A machine-wide lock for a test file that binds fixed loopback addresses, so that two runs of the
 * suite at once (two engineers, or CI beside a developer) take turns instead of colliding. The lock
 * is a directory holding the owner's pid; a lock whose owner is gone is taken over.
 */
export async function acquireLock(name: string, timeoutMs = 50_000): Promise<() => void> {
  const root = path.join(os.tmpdir(), "yquant-render-locks");
  fs.mkdirSync(root, { recursive: true });
  const lock = path.join(root, name);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      return () => fs.rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
    } catch {
      // being created or removed
    }
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      fs.rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`another test run holds ${lock} (pid ${owner})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops child processes: SIGTERM, a bounded wait, then SIGKILL for any still running. */
export async function stopChildren(children: readonly ChildProcess[], graceMs = 10_000): Promise<void> {
  const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;
  for (const child of children) if (alive(child)) child.kill("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (children.some(alive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const child of children) if (alive(child)) child.kill("SIGKILL");
}
