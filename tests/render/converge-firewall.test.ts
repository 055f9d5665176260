/**
 * converge.sh on the gate's host firewall (HOST_FIREWALL=on), against the iptables and
 * netfilter-persistent stand-ins: an admin CIDR added then removed leaves exactly the remaining
 * rules (the stale ones come from the rules in force, not from a diff against a file converge has
 * already overwritten), and a converge SIGKILLed at each of its steps is finished by a re-run.
 * HAProxy is checked with the real `haproxy -c`; the service control is /bin/true. No address is bound.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convergeEntries, convergeScript, renderConvergeBundle } from "../../cloud-init/converge";
import { Layout } from "../../cloud-init/layout";
import { firewallRules } from "../../cloud-init/node-config";
import { localLayout, materialise, tempDir } from "./helpers";

const STUBS = path.join(__dirname, "fixtures/stubs");
const dir = tempDir("converge-fw");
const BASE = ["198.51.100.0/24"];
const ADDED = "203.0.113.7/32";
const layout = localLayout(dir, 90, { serviceControl: "/bin/true", adminCidrs: BASE });
const state = path.join(dir, "iptables-input");
const script = path.join(dir, "gate/opt/yquant/bin/converge.sh");
const IMAGE_RULES = [
  "-m state --state RELATED,ESTABLISHED -j ACCEPT",
  "-i lo -j ACCEPT",
  "-p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT",
  "-j REJECT --reject-with icmp-host-prohibited",
];
const env = { ...process.env, PATH: `${STUBS}:${process.env.PATH ?? ""}`, IPTABLES_STATE: state };

/**
 * The INPUT chain the stand-in holds after `setup.sh` or a finished converge of `l`: the image's rules,
 * then one ACCEPT per rule of `l` (in the order they were inserted above REJECT, so sorted here), REJECT.
 */
function expectedChain(l: Layout): string[] {
  const rules = firewallRules(l, "gate").map(
    (r) =>
      `-p tcp -s ${r.source} -m state --state NEW -m tcp --dport ${r.port} -m comment --comment yquant-${r.name} -j ACCEPT`,
  );
  return [...IMAGE_RULES.slice(0, 3), ...rules.sort(), IMAGE_RULES[3] as string];
}

/** The gate's bundle for `l`, with the host firewall on (the local layout renders it off). */
function bundle(l: Layout): string {
  return renderConvergeBundle(
    convergeEntries(l, "gate").map((e) =>
      e.path.endsWith("/etc/yquant/node.env")
        ? { ...e, content: e.content.replace("HOST_FIREWALL='off'", "HOST_FIREWALL='on'") }
        : e,
    ),
  );
}

function converge(l: Layout) {
  return spawnSync(script, [], { input: bundle(l), encoding: "utf8", timeout: 60_000, env });
}

/** The stand-in's INPUT chain, the yquant rules between the image's sorted (see expectedChain). */
function chain(): string[] {
  const rules = fs.readFileSync(state, "utf8").trimEnd().split("\n");
  return [...rules.slice(0, 3), ...rules.slice(3, -1).sort(), ...rules.slice(-1)];
}
const withAdded: Layout = { ...layout, adminCidrs: [...BASE, ADDED] };

beforeAll(() => {
  materialise(layout, "gate");
  const nodeEnv = path.join(dir, "gate/etc/yquant/node.env");
  fs.writeFileSync(
    nodeEnv,
    fs.readFileSync(nodeEnv, "utf8").replace("HOST_FIREWALL='off'", "HOST_FIREWALL='on'"),
  );
  fs.writeFileSync(state, IMAGE_RULES.join("\n") + "\n");
  const setup = spawnSync(path.join(dir, "gate/opt/yquant/bin/setup.sh"), [], {
    encoding: "utf8",
    timeout: 60_000,
    env,
  });
  if (setup.status !== 0) throw new Error(`setup.sh exited ${setup.status}: ${setup.stdout}${setup.stderr}`);
  fs.writeFileSync(script, convergeScript());
  fs.chmodSync(script, 0o755);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("converge.sh host firewall", () => {
  it("adds an admin CIDR's rules, then removing the CIDR leaves exactly the remaining rules", () => {
    expect(chain()).toEqual(expectedChain(layout));
    // 13 admin/cluster rules (the message replica's 3 among them) and 4 monitoring ones
    // (node_exporter and HAProxy metrics, from each engine).
    expect(chain()).toHaveLength(3 + 17 + 1);
    const added = converge(withAdded);
    expect(added.status, added.stdout + added.stderr).toBe(0);
    expect(chain()).toEqual(expectedChain(withAdded));
    expect(chain().filter((r) => r.includes(ADDED))).toEqual([
      `-p tcp -s ${ADDED} -m state --state NEW -m tcp --dport 18081 -m comment --comment yquant-staging -j ACCEPT`,
      `-p tcp -s ${ADDED} -m state --state NEW -m tcp --dport 18404 -m comment --comment yquant-stats -j ACCEPT`,
    ]);
    const removed = converge(layout);
    expect(removed.status, removed.stdout + removed.stderr).toBe(0);
    expect(chain()).toEqual(expectedChain(layout));
    expect(removed.stdout).toContain("converge.sh[gate]: firewall: rules converged and saved");
    const idle = converge(layout);
    expect([idle.status, idle.stdout.trim()]).toEqual([
      0,
      "converge.sh[gate]: every file is in force: nothing to do",
    ]);
  });

  it("a stale rule whose file line is already gone is still removed (rules in force are the reference)", () => {
    const stale = `-p tcp -s ${ADDED} -m state --state NEW -m tcp --dport 18081 -m comment --comment yquant-staging -j ACCEPT`;
    const rules = chain();
    rules.splice(3, 0, stale);
    fs.writeFileSync(state, rules.join("\n") + "\n");
    const r = converge(layout);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("converge.sh[gate]: differs: ");
    expect(chain()).toEqual(expectedChain(layout));
  });

  const STEPS = [
    "planned",
    "firewall-file",
    "firewall-added",
    "firewall-deleted",
    "files",
    "valkey-set",
    "runtime-set",
    "recorded",
  ];
  it.each(STEPS)(
    "killed at step %s, a re-run converges to exactly the new rules and HAProxy is reloaded",
    async (step) => {
      const target = STEPS.indexOf(step) % 2 === 0 ? withAdded : layout;
      const child = spawn(script, [], {
        env: { ...env, YQ_CONVERGE_STOP_AT: step },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      child.stdin.end(bundle(target));
      const pid = child.pid as number;
      const deadline = Date.now() + 30_000;
      let stopped = false;
      while (!stopped && Date.now() < deadline) {
        try {
          stopped = / T /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\)/, ""));
        } catch {
          break;
        }
        if (!stopped) await new Promise((r) => setTimeout(r, 20));
      }
      expect(stopped, `converge.sh to stop at ${step}: ${out}`).toBe(true);
      process.kill(pid, "SIGKILL");
      expect(await closed).toBe(null);
      const rerun = converge(target);
      expect(rerun.status, rerun.stdout + rerun.stderr).toBe(0);
      expect(chain()).toEqual(expectedChain(target));
      // The HAProxy reload the killed run owed happens in the re-run (or the re-run's own diff).
      expect(rerun.stdout).toContain("haproxy: haproxy.cfg in force, reloaded");
      expect(fs.existsSync(path.join(dir, "gate/var/lib/yquant/converge.pending"))).toBe(false);
      const idle = converge(target);
      expect([idle.status, idle.stdout.trim()]).toEqual([
        0,
        "converge.sh[gate]: every file is in force: nothing to do",
      ]);
    },
  );
});
