/** The lab's install instructions for missing programs: exact text, no process started. */
import { describe, expect, it } from "vitest";
import { TOPOLOGY } from "../../cloud-init/topology";
import { INSTALL_SCRIPT, REQUIRED_PROGRAMS, installInstructions } from "../../lab/prereqs";

describe("installInstructions", () => {
  it("names the missing programs and the exact apt lines, with backports only for Valkey", () => {
    expect(installInstructions(["haproxy", "socat"]).split("\n")).toEqual([
      "The lab needs these programs, which are not installed: haproxy, socat.",
      "",
      "Install them (as root, or with sudo):",
      "  apt-get update && apt-get install -y haproxy socat",
      "",
      `Or, as root, run the repository's installer, which does exactly that: ${INSTALL_SCRIPT}`,
      "(When the lab runs as root, `npm run lab` runs it by itself.)",
    ]);
  });

  it("derives the backports entry from the machine's own sources when Valkey is missing", () => {
    const lines = installInstructions(["valkey-sentinel", "flock", "setsid"]).split("\n");
    expect(lines[3]).toBe("  apt-get update && apt-get install -y util-linux");
    expect(lines).toContain(
      "  apt-get update && apt-get install -y -t bookworm-backports valkey-server valkey-sentinel valkey-tools",
    );
    expect(lines).toContain(
      "  #   apt-get update && apt-get install -y valkey-server valkey-sentinel valkey-tools",
    );
    expect(lines.join("\n")).not.toMatch(/https?:\/\//);
  });

  it("covers every package of the role table the lab needs, and util-linux's programs", () => {
    const rolePackages = [...new Set(Object.values(TOPOLOGY.roles).flatMap((r) => r.packages))];
    const covered = new Set(REQUIRED_PROGRAMS.map((p) => p.pkg));
    // The lab deploys no release from git, and its host firewall is off (HOST_FIREWALL=off).
    expect(rolePackages.filter((pkg) => !covered.has(pkg)).sort()).toEqual(["git", "iptables-persistent"]);
    // util-linux is in the image, not in a role: setsid for the shim (a session per unit), flock
    // for the scripts' locks.
    expect(REQUIRED_PROGRAMS.filter((p) => !rolePackages.includes(p.pkg))).toEqual([
      { program: "setsid", pkg: "util-linux", backports: false },
      { program: "flock", pkg: "util-linux", backports: false },
    ]);
  });
});
