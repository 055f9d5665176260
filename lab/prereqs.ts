/**
 * The real programs the lab runs, and exactly how to install the missing ones on Debian 12 (and
 * Ubuntu 24.04).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "./layout";

/** Program → Debian package. Valkey comes from bookworm-backports. */
export const REQUIRED_PROGRAMS: readonly { program: string; pkg: string; backports: boolean }[] = [
  { program: "haproxy", pkg: "haproxy", backports: false },
  { program: "valkey-server", pkg: "valkey-server", backports: true },
  { program: "valkey-sentinel", pkg: "valkey-sentinel", backports: true },
  { program: "socat", pkg: "socat", backports: false },
  { program: "jq", pkg: "jq", backports: false },
  { program: "openssl", pkg: "openssl", backports: false },
  { program: "curl", pkg: "curl", backports: false },
  { program: "python3", pkg: "python3", backports: false },
  { program: "setsid", pkg: "util-linux", backports: false },
  { program: "flock", pkg: "util-linux", backports: false },
  { program: "prometheus", pkg: "prometheus", backports: false },
  { program: "prometheus-alertmanager", pkg: "prometheus-alertmanager", backports: false },
  { program: "prometheus-node-exporter", pkg: "prometheus-node-exporter", backports: false },
  { program: "prometheus-redis-exporter", pkg: "prometheus-redis-exporter", backports: false },
];

export const INSTALL_SCRIPT = path.join(REPO_ROOT, ".ci", "install-system-deps.sh");

/** True when `program` is on PATH (or is an absolute executable path). */
export function hasProgram(program: string): boolean {
  const dirs = (process.env.PATH ?? "").split(":").filter((d) => d.length > 0);
  for (const dir of [...dirs, "/usr/sbin", "/sbin"]) {
    try {
      fs.accessSync(path.join(dir, program), fs.constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export function missingPrograms(): string[] {
  return REQUIRED_PROGRAMS.filter((p) => !hasProgram(p.program)).map((p) => p.program);
}

/** The exact commands that install `missing` on Debian 12 (bookworm). */
export function installInstructions(missing: readonly string[]): string {
  const wanted = REQUIRED_PROGRAMS.filter((p) => missing.includes(p.program));
  const plain = [...new Set(wanted.filter((p) => !p.backports).map((p) => p.pkg))];
  const backports = wanted.some((p) => p.backports);
  const lines = [`The lab needs these programs, which are not installed: ${missing.join(", ")}.`, ""];
  lines.push("Install them (as root, or with sudo):");
  if (plain.length > 0) lines.push(`  apt-get update && apt-get install -y ${plain.join(" ")}`);
  if (backports) {
    lines.push(
      "  # Valkey 8 is in bookworm-backports. Enable it by copying the first stanza of your own",
      "  # /etc/apt/sources.list.d/debian.sources with the suite changed, then install from it:",
      '  awk \'BEGIN { RS = ""; ORS = "\\n" } NR == 1 { print; exit }\' /etc/apt/sources.list.d/debian.sources \\',
      "    | sed -E 's/^Suites:.*/Suites: bookworm-backports/' > /etc/apt/sources.list.d/bookworm-backports.sources",
      "  apt-get update && apt-get install -y -t bookworm-backports valkey-server valkey-sentinel valkey-tools",
      "  # On Ubuntu 24.04, Valkey 7.2 is in the release's own archive (universe) instead:",
      "  #   apt-get update && apt-get install -y valkey-server valkey-sentinel valkey-tools",
      "  # The packages start their own services; the lab runs its own processes on 127.0.10.x, so",
      "  # they do not conflict, but you may stop them: systemctl disable --now valkey-server valkey-sentinel haproxy",
    );
  }
  lines.push("", `Or, as root, run the repository's installer, which does exactly that: ${INSTALL_SCRIPT}`);
  lines.push("(When the lab runs as root, `npm run lab` runs it by itself.)");
  return lines.join("\n");
}

/**
 * Checks the programs. When some are missing, `install` is set and this process is root, runs
 * `.ci/install-system-deps.sh` and checks again. Returns the programs still missing.
 */
export function ensurePrograms(install: boolean, log: (line: string) => void): string[] {
  let missing = missingPrograms();
  if (missing.length > 0 && install && process.getuid?.() === 0 && fs.existsSync(INSTALL_SCRIPT)) {
    log(`installing missing programs (${missing.join(", ")}) with ${INSTALL_SCRIPT}`);
    execFileSync("bash", [INSTALL_SCRIPT], { stdio: "inherit" });
    missing = missingPrograms();
  }
  return missing;
}
