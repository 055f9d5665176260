/**
 * The first boot's failure paths, from the rendered files and stand-ins for apt-get, dpkg-query,
 * iptables and sysctl (fixtures/first-boot-stubs): the wait for package sources is not triggered by
 * `apt-get update` exiting 100, gives up after its tries with one line, and setup.sh on a VM refuses
 * to configure a node whose packages are missing, before any change, with that line; health-check.sh
 * reports it. No address is bound. (Real cloud-init and systemd: tests/vm, `npm run vm -- test`.)
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES } from "../../cloud-init/topology";
import { packageSourcesWait, renderUserData } from "../../cloud-init/user-data";

const GATE_PACKAGES = ROLES.gate.packages;
import { cloudLayout, localLayout, materialise, tempDir } from "./helpers";

const STUBS = path.join(__dirname, "fixtures/first-boot-stubs");
const dir = tempDir("first-boot");
const layout = localLayout(dir, 75, { serviceControl: "/bin/true" });
const calls = path.join(dir, "calls");
const gate = (rel: string): string => path.join(dir, "gate", rel);
const failed = gate("var/lib/yquant/first-boot-failed");

function run(script: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(gate(`opt/yquant/bin/${script}`), args, {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, PATH: `${STUBS}:${process.env.PATH ?? ""}`, STUB_CALLS: calls, ...env },
  });
}
function callLog(): string[] {
  return fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trimEnd().split("\n") : [];
}
function reset(): void {
  fs.rmSync(calls, { force: true });
  fs.rmSync(failed, { force: true });
}

beforeAll(() => {
  materialise(layout, "gate");
  // cloud-init keeps the user data it was given as /var/lib/cloud/instance/user-data.txt.
  fs.mkdirSync(gate("var/lib/cloud/instance"), { recursive: true });
  fs.writeFileSync(gate("var/lib/cloud/instance/user-data.txt"), renderUserData(layout, "gate"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("bootcmd", () => {
  it("only queues the wait as a unit after network-online.target and before cloud-final", () => {
    expect(packageSourcesWait(cloudLayout(), "gate")).toBe(
      "cloud-init-per instance yq-pkg-wait systemd-run --no-block -u yq-pkg-wait -p Type=oneshot " +
        "-p After=network-online.target -p Before=cloud-final.service /bin/bash /opt/yquant/bin/setup.sh --wait-sources",
    );
  });
});

describe("setup.sh --wait-sources", () => {
  const install = `apt-get install -qqyd ${GATE_PACKAGES.join(" ")}`;

  it("apt-get update exiting 100 (one broken source) does not hold it: the packages download", () => {
    reset();
    const result = run("setup.sh", ["--wait-sources"], { APT_UPDATE_RC: "100" });
    expect(result.status, result.stderr).toBe(0);
    expect(callLog()).toEqual(["apt-get update -qq", install]);
    expect(fs.existsSync(failed)).toBe(false);
  });

  it("pins openipmi out before the packages, and real apt then leaves it out of the Recommends", () => {
    reset();
    const pref = gate("etc/apt/preferences.d/yquant-no-openipmi.pref");
    fs.rmSync(pref, { force: true });
    expect(run("setup.sh", ["--wait-sources"]).status).toBe(0);
    expect(fs.readFileSync(pref, "utf8")).toBe("Package: openipmi\nPin: release *\nPin-Priority: -1\n");
    // This machine's own apt and package lists (the CI install ran apt-get update), with the
    // Recommends on as cloud-init's apt-get has them: ipmitool still comes, openipmi does not.
    const simulate = (extra: string[]): string[] =>
      spawnSync(
        "apt-get",
        [
          "install",
          "-s",
          "-o",
          "APT::Install-Recommends=true",
          ...extra,
          "prometheus-node-exporter-collectors",
        ],
        { encoding: "utf8", timeout: 60_000 },
      )
        .stdout.split("\n")
        .filter((l) => /^Inst (openipmi|ipmitool) /.test(l))
        .map((l) => l.split(" ")[1] ?? "");
    expect(simulate([])).toEqual(["ipmitool", "openipmi"]);
    expect(simulate(["-o", `Dir::Etc::Preferences=${pref}`])).toEqual(["ipmitool"]);
  });

  it("gives up after its tries with one line, and exits 0 so cloud-init goes on", () => {
    reset();
    const result = run("setup.sh", ["--wait-sources"], {
      APT_INSTALL_RC: "100",
      YQ_WAIT_TRIES: "3",
      YQ_WAIT_SECONDS: "0",
    });
    expect(result.status).toBe(0);
    const line = "yquant: FIRST BOOT FAILED: package sources unreachable for 10 min";
    expect(result.stderr).toBe(`${line}\n`);
    expect(fs.readFileSync(failed, "utf8")).toBe(`${line}\n`);
    expect(callLog().filter((c) => c.startsWith("apt-get install"))).toHaveLength(3);
  });
});

describe("setup.sh on a VM with a package missing", () => {
  beforeAll(() => {
    const env = gate("etc/yquant/node.env");
    fs.writeFileSync(env, fs.readFileSync(env, "utf8").replace("PRODUCTION='false'", "PRODUCTION='true'"));
  });

  it("refuses before any change, with one line, and health-check.sh reports it", () => {
    reset();
    const result = run("setup.sh", [], { DPKG_MISSING: "haproxy valkey-server" });
    expect(result.status).toBe(1);
    const line = "yquant: FIRST BOOT FAILED: packages not installed: haproxy valkey-server";
    expect(result.stderr).toBe(`${line}\n`);
    expect(result.stdout).toBe("");
    expect(fs.readFileSync(failed, "utf8")).toBe(`${line}\n`);
    // The hold on package services stays, and no firewall or sysctl call was made.
    expect(fs.existsSync(gate("usr/sbin/policy-rc.d"))).toBe(true);
    expect(callLog().filter((c) => !c.startsWith("dpkg-query"))).toEqual([]);
    expect(callLog()).toHaveLength(GATE_PACKAGES.length);

    const health = run("health-check.sh", ["--json"]);
    expect(health.status).not.toBe(0);
    const report = JSON.parse(health.stdout) as {
      ok: boolean;
      checks: { name: string; ok: boolean; detail: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toEqual({ name: "first-boot", ok: false, detail: line });
  });

  it("the first cause is kept: a later run names the same line", () => {
    fs.writeFileSync(failed, "yquant: FIRST BOOT FAILED: package sources unreachable for 10 min\n");
    const result = run("setup.sh", [], { DPKG_MISSING: "haproxy" });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("yquant: FIRST BOOT FAILED: package sources unreachable for 10 min\n");
  });
});
