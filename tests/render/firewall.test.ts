/**
 * setup.sh's host firewall with HOST_FIREWALL=on, against stand-ins for iptables and
 * netfilter-persistent that model OCI's Ubuntu image rules: ACCEPTs inserted above the REJECT,
 * never twice, persisted; and a second setup.sh run is a no-op. No address is bound.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firewallRules } from "../../cloud-init/node-config";
import { localLayout, materialise, tempDir, IMAGE_INPUT_RULES } from "./helpers";

const STUBS = path.join(__dirname, "fixtures/stubs");
const dir = tempDir("firewall");
const layout = localLayout(dir, 70, { serviceControl: "/bin/true", adminCidrs: ["198.51.100.0/24"] });
const state = path.join(dir, "iptables-input");
const IMAGE_RULES = IMAGE_INPUT_RULES;

function setup() {
  return spawnSync(path.join(dir, "gate/opt/yquant/bin/setup.sh"), [], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, PATH: `${STUBS}:${process.env.PATH ?? ""}`, IPTABLES_STATE: state },
  });
}

beforeAll(() => {
  materialise(layout, "gate");
  const env = path.join(dir, "gate/etc/yquant/node.env");
  fs.writeFileSync(env, fs.readFileSync(env, "utf8").replace("HOST_FIREWALL='off'", "HOST_FIREWALL='on'"));
  fs.writeFileSync(state, IMAGE_RULES.join("\n") + "\n");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("setup.sh host firewall", () => {
  it("inserts one ACCEPT per port-map line above the image's REJECT, and saves", () => {
    const result = setup();
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    const expected = firewallRules(layout, "gate").map(
      (r) =>
        `-p ${r.proto ?? "tcp"} -s ${r.source} -m state --state NEW -m ${r.proto ?? "tcp"} --dport ${r.port} -m comment --comment yquant-${r.name} -j ACCEPT`,
    );
    expect(expected).toHaveLength(17);
    expect(result.stdout).toContain(
      "setup.sh[gate]: firewall: 17 rule(s) inserted above REJECT, 0 appended, 0 already there; rules saved",
    );
    expect(result.stderr).not.toContain("WARNING");
    const rules = fs.readFileSync(state, "utf8").trimEnd().split("\n");
    expect(rules).toEqual([...IMAGE_RULES.slice(0, -1), ...expected, IMAGE_RULES.at(-1)]);
    expect(fs.readFileSync(`${state}.calls`, "utf8")).toContain("netfilter-persistent save\n");
  });

  it("a second run adds nothing (checked with iptables -C first)", () => {
    const before = fs.readFileSync(state, "utf8");
    const result = setup();
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain(
      "setup.sh[gate]: firewall: 0 rule(s) inserted above REJECT, 0 appended, 17 already there; rules saved",
    );
    expect(fs.readFileSync(state, "utf8")).toBe(before);
    const calls = fs.readFileSync(`${state}.calls`, "utf8").split("\n");
    expect(calls.filter((c) => c.startsWith("iptables -I") || c.startsWith("iptables -A"))).toHaveLength(17);
    expect(calls.some((c) => /InstanceServices|-F|-X|-D /.test(c))).toBe(false);
  });

  it("without a REJECT in INPUT it appends, says so, and warns that the host firewall restricts nothing", () => {
    fs.writeFileSync(state, IMAGE_RULES.slice(0, -1).join("\n") + "\n");
    const result = setup();
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain(
      "setup.sh[gate]: firewall: 0 rule(s) inserted above REJECT, 17 appended, 0 already there; rules saved",
    );
    expect(result.stderr).toBe(
      "setup.sh[gate]: firewall: WARNING: no REJECT in INPUT, policy ACCEPT: the host firewall restricts nothing\n",
    );
    expect(fs.readFileSync(state, "utf8").trimEnd().split("\n")).toHaveLength(22);
  });
});
