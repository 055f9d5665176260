/**
 * The operations scripts end to end on one machine, from the rendered files: setup.sh on the three
 * nodes (real Valkey, Sentinel, HAProxy and the placeholder app, on 127.0.20.61-63 and 71-73 with a minimal
 * service-control shim), health-check.sh, a switch with a drain window, setup.sh again, and a deploy
 * that fails and rolls back. The lab (tests/lab) runs the load and failure scenarios.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_NAMES, NodeName } from "../../cloud-init/layout";
import { monitoringUnits } from "../../cloud-init/monitoring";
import { renderHaproxyConfig } from "../../cloud-init/user-data";
import { acquireLock, localLayout, materialise, tempDir } from "./helpers";

const SHIM = path.join(__dirname, "fixtures/service-control.sh");
const UNITS = [
  "prometheus-alertmanager",
  "prometheus",
  "prometheus-redis-exporter",
  "yquant-node-metrics",
  "prometheus-node-exporter",
  "yquant-frontend",
  "yquant-backend",
  "yquant-sync",
  "haproxy",
  "valkey-sentinel",
  "valkey-server@replica",
  "valkey-server",
];
const dir = tempDir("e2e");
// As on a VM, each node's loopback (127.0.20.7x here) differs from its private address (127.0.20.6x):
// the scripts must reach each service where it actually listens.
const layout = localLayout(dir, 60, {
  serviceControl: SHIM,
  drainSeconds: 2,
  nodes: {
    gate: { privateIp: "127.0.20.61", loopback: "127.0.20.71" },
    blue: { privateIp: "127.0.20.62", loopback: "127.0.20.72" },
    green: { privateIp: "127.0.20.63", loopback: "127.0.20.73" },
  },
});
const live = `http://${layout.publicBind}:${layout.ports.http}`;
const staging = `http://${layout.publicBind}:${layout.ports.staging}`;

function script(node: NodeName, name: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(path.join(dir, node, "opt/yquant/bin", `${name}.sh`), args, {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
}

/** The shim's process logs of a node, for failure messages. */
function logs(node: NodeName): string {
  const state = path.join(dir, node, "run/test");
  if (!fs.existsSync(state)) return "";
  return fs
    .readdirSync(state)
    .filter((f) => f.endsWith(".log"))
    .map((f) => `--- ${f}\n${fs.readFileSync(path.join(state, f), "utf8").slice(-2000)}`)
    .join("\n");
}

async function get(
  url: string,
  cookie?: string,
): Promise<{ status: number; body: string; setCookie: string }> {
  const response = await fetch(url, cookie === undefined ? {} : { headers: { Cookie: cookie } });
  return {
    status: response.status,
    body: await response.text(),
    setCookie: response.headers.get("set-cookie") ?? "",
  };
}

async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const switchMap = path.join(dir, "gate/etc/haproxy/yquant/switch.map");

/** `switch-active.sh status --json`: what HAProxy routes, what the file says, the drain. */
async function status(): Promise<{
  live: string | null;
  disk: string | null;
  agree: boolean;
  drain: string;
}> {
  return JSON.parse(script("gate", "switch-active", ["status", "--json"]).stdout) as {
    live: string | null;
    disk: string | null;
    agree: boolean;
    drain: string;
  };
}

function runAsync(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(path.join(dir, "gate/opt/yquant/bin/switch-active.sh"), args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (status) => resolve({ status, stdout, stderr })),
  );
  return Object.assign(done, { child });
}

/** Starts a switch to `color` that stops itself at `step`, then SIGKILLs it there. */
async function killedAt(step: string, color: string): Promise<void> {
  const run = runAsync([color, "--drain", "0"], { YQ_SWITCH_STOP_AT: step });
  const pid = run.child.pid as number;
  await eventually(
    () => / T /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\)/, "")),
    `switch-active.sh to stop at ${step}`,
    20_000,
  );
  process.kill(pid, "SIGKILL");
  expect((await run).status).toBe(null);
}

let releaseLock = (): void => undefined;

beforeAll(async () => {
  releaseLock = await acquireLock("127.0.20.61-73");
  for (const node of NODE_NAMES) materialise(layout, node);
});

afterAll(() => {
  for (const node of NODE_NAMES) {
    for (const unit of UNITS) {
      spawnSync(SHIM, ["stop", unit], {
        env: { ...process.env, YQ_ROOT: path.join(dir, node) },
        timeout: 10_000,
      });
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  releaseLock();
});

describe("operations scripts end to end", () => {
  it("setup.sh brings up every node (engines first), and health-check.sh passes on each", async () => {
    for (const node of ["blue", "green", "gate"] as const) {
      const result = script(node, "setup");
      expect(result.status, `${node}: ${result.stdout}${result.stderr}\n${logs(node)}`).toBe(0);
      expect(result.stdout).toContain(`setup.sh[${node}]: done`);
    }
    expect(fs.readFileSync(switchMap, "utf8")).toBe("live blue\ndrain-blue 0\ndrain-green 0\n");
    expect(fs.readFileSync(path.join(dir, "gate/etc/haproxy/haproxy.cfg"), "utf8")).toBe(
      renderHaproxyConfig(layout),
    );
    expect(fs.existsSync(path.join(dir, "gate/usr/sbin/policy-rc.d"))).toBe(false);
    // setup.sh starts a node's monitoring units in one call: every one of them runs.
    const running = (node: NodeName): string[] =>
      monitoringUnits(layout, node).filter(
        (unit) =>
          spawnSync(SHIM, ["is-active", unit], { env: { ...process.env, YQ_ROOT: path.join(dir, node) } })
            .status === 0,
      );
    expect(running("gate")).toEqual(["prometheus-node-exporter", "yquant-node-metrics"]);
    for (const engine of ["blue", "green"] as const)
      expect(running(engine)).toEqual(monitoringUnits(layout, engine));
    expect(monitoringUnits(layout, "blue")).toHaveLength(5);
    for (const node of NODE_NAMES) {
      await eventually(() => script(node, "health-check").status === 0, `health-check.sh on ${node}`);
      const json = JSON.parse(script(node, "health-check", ["--json"]).stdout) as { ok: boolean };
      expect(json.ok).toBe(true);
    }
  });

  it("live goes to blue with a SERVERID cookie, staging to green", async () => {
    await eventually(async () => (await get(`${live}/`)).body.includes("blue"), "live on blue");
    const first = await get(`${live}/`);
    expect(first.body).toContain("placeholder app on blue");
    expect(first.setCookie).toContain("SERVERID=blue");
    expect(JSON.parse((await get(`${staging}/health`)).body)).toMatchObject({ color: "green", status: "ok" });
  });

  it("switch-active.sh green returns at once; HAProxy honours blue's cookies until the drain's end", async () => {
    const result = script("gate", "switch-active", ["green", "--drain", "3"]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("switch-active.sh: live traffic now goes to green (was blue)");
    expect(result.stdout).toMatch(
      /switch-active\.sh: drain: cookies naming blue are honoured until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(3 s\); HAProxy ends it by itself/,
    );
    expect(await status()).toMatchObject({ live: "green", disk: "green", agree: true });
    expect(fs.readFileSync(switchMap, "utf8")).toMatch(/^live green\ndrain-blue \d+\ndrain-green 0\n$/);
    expect((await get(`${live}/`)).body).toContain("on green");
    expect((await get(`${live}/`, "SERVERID=blue")).body).toContain("on blue");
    expect(JSON.parse((await get(`${staging}/health`)).body)).toMatchObject({ color: "blue" });
    await eventually(
      async () => (await get(`${live}/`, "SERVERID=blue")).body.includes("on green"),
      "the drain to end by itself",
      10_000,
    );
    expect(await status()).toMatchObject({ live: "green", agree: true, drain: "none" });
    const order = await fetch(`${live}/orders`, { method: "POST", body: JSON.stringify({ id: "e2e-1" }) });
    expect(order.status).toBe(201);
    expect(fs.readFileSync(path.join(dir, "green/var/lib/yquant/orders.log"), "utf8")).toBe("e2e-1 green\n");
  });

  it("a switch to the color already live does nothing, and says so", () => {
    const again = script("gate", "switch-active", ["green"]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe("switch-active.sh: green is already live: nothing to do\n");
  });

  // SIGKILL at each step of a switch green -> blue, then the same command again: it converges.
  it.each(["locked", "checked", "written", "prepared", "committed"])(
    "killed at step %s, switch-active.sh blue run again converges to blue",
    async (step) => {
      await killedAt(step, "blue");
      const after = await status();
      if (step === "written" || step === "prepared") {
        // The file says blue, HAProxy still routes green: status says so and exits non-zero.
        expect(after).toMatchObject({ live: "green", disk: "blue", agree: false });
      }
      const again = script("gate", "switch-active", ["blue", "--drain", "0"]);
      expect(again.status, again.stderr).toBe(0);
      expect(await status()).toMatchObject({ live: "blue", disk: "blue", agree: true });
      await eventually(async () => (await get(`${live}/`)).body.includes("on blue"), "live on blue");
      // Back to green, for the next step.
      expect(script("gate", "switch-active", ["green", "--drain", "0"]).status).toBe(0);
    },
  );

  it("killed after writing the file, a switch to the color HAProxy still routes repairs the file", async () => {
    await killedAt("written", "blue");
    expect(await status()).toMatchObject({ live: "green", disk: "blue", agree: false });
    const text = script("gate", "switch-active", ["status"]);
    expect(text.status).toBe(1);
    expect(text.stdout).toContain(
      `DISAGREE: HAProxy routes green but ${switchMap} holds blue: run switch-active.sh green to repair`,
    );
    const repair = script("gate", "switch-active", ["green"]);
    expect(repair.status, repair.stderr).toBe(0);
    expect(repair.stdout).toContain("switch-active.sh: green is already live; " + switchMap + " repaired");
    expect(await status()).toMatchObject({ live: "green", disk: "green", agree: true });
    expect(fs.readFileSync(switchMap, "utf8")).toBe("live green\ndrain-blue 0\ndrain-green 0\n");
  });

  it("a second switch while one holds the lock exits 1 at once and says what is in force", () => {
    const lock = path.join(dir, "gate/var/lib/yquant/switch.lock");
    const holder = spawn("flock", ["-x", lock, "sleep", "30"], { stdio: "ignore", detached: true });
    try {
      spawnSync("sleep", ["0.3"]);
      const refused = script("gate", "switch-active", ["blue"]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("switch-active.sh: another switch is running (");
      expect(refused.stderr).toContain("not switching to blue. In force: live green, drain none");
    } finally {
      process.kill(-(holder.pid as number), "SIGKILL");
      // The lock is free once the holder's processes are gone (bounded wait).
      for (let i = 0; i < 50 && spawnSync("flock", ["-n", lock, "true"]).status !== 0; i++) {
        spawnSync("sleep", ["0.1"]);
      }
    }
  });

  it("two racing switches: each either wins or exits 1 naming what is in force; the state agrees", async () => {
    const [a, b] = await Promise.all([
      runAsync(["blue", "--drain", "0"]),
      runAsync(["blue", "--drain", "0"]),
    ]);
    const codes = [a.status, b.status].sort();
    expect(codes[0]).toBe(0);
    for (const r of [a, b]) {
      if (r.status !== 0) expect(r.stderr).toMatch(/another switch is running .*In force: live (blue|green)/);
      else expect(r.stdout).toMatch(/live traffic now goes to blue|blue is already live/);
    }
    expect(await status()).toMatchObject({ live: "blue", disk: "blue", agree: true });
  });

  it("a rollback during a drain takes over at once and cancels the drain", async () => {
    const first = script("gate", "switch-active", ["green", "--drain", "600"]);
    expect(first.status, first.stderr).toBe(0);
    expect((await get(`${live}/`, "SERVERID=blue")).body).toContain("on blue");
    const rollback = script("gate", "switch-active", ["blue", "--drain", "0"]);
    expect(rollback.status, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain("switch-active.sh: live traffic now goes to blue (was green)");
    expect(await status()).toMatchObject({ live: "blue", agree: true, drain: "none" });
    expect(fs.readFileSync(switchMap, "utf8")).toBe("live blue\ndrain-blue 0\ndrain-green 0\n");
    expect((await get(`${live}/`, "SERVERID=green")).body).toContain("on blue");
    expect((await get(`${live}/`)).body).toContain("on blue");
  });

  it("HAProxy restarted during a drain keeps it until its end time, and a restart after it ends it", async () => {
    const gateEnv = { ...process.env, YQ_ROOT: path.join(dir, "gate") };
    const restart = (): void => {
      spawnSync(SHIM, ["stop", "haproxy"], { env: gateEnv, timeout: 10_000 });
      expect(spawnSync(SHIM, ["start", "haproxy"], { env: gateEnv, timeout: 10_000 }).status).toBe(0);
    };
    // A connection to the stopped HAProxy fails: only a served answer counts.
    const servesGreen = async (): Promise<boolean> =>
      (await get(`${live}/`).catch(() => ({ body: "" }))).body.includes("on green");
    const sw = script("gate", "switch-active", ["green", "--drain", "6"]);
    expect(sw.status, sw.stderr).toBe(0);
    const until = Number(/drain-blue (\d+)/.exec(fs.readFileSync(switchMap, "utf8"))?.[1]);
    restart();
    await eventually(async () => (await status()).live === "green", "HAProxy back with the map", 20_000);
    await eventually(servesGreen, "live on green after the restart");
    if (Date.now() / 1000 < until - 1) {
      expect((await get(`${live}/`, "SERVERID=blue")).body).toContain("on blue");
    }
    // Down while the drain ends: started again after it, the old cookie goes to green.
    spawnSync(SHIM, ["stop", "haproxy"], { env: gateEnv, timeout: 10_000 });
    await new Promise((r) => setTimeout(r, Math.max(0, (until + 1) * 1000 - Date.now())));
    expect(spawnSync(SHIM, ["start", "haproxy"], { env: gateEnv, timeout: 10_000 }).status).toBe(0);
    await eventually(async () => (await status()).live === "green", "HAProxy back with the map", 20_000);
    await eventually(servesGreen, "live on green after the second start");
    expect((await get(`${live}/`, "SERVERID=blue")).body).toContain("on green");
    expect(await status()).toMatchObject({ live: "green", disk: "green", agree: true, drain: "none" });
  });

  it("setup.sh again is safe: keeps the active color and restarts nothing", () => {
    const pid = fs.readFileSync(path.join(dir, "gate/run/test/haproxy.pid"), "utf8");
    const result = script("gate", "setup");
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, "gate/run/test/haproxy.pid"), "utf8")).toBe(pid);
    expect(fs.readFileSync(path.join(dir, "gate/etc/haproxy/haproxy.cfg"), "utf8")).toBe(
      renderHaproxyConfig(layout),
    );
    expect(fs.readFileSync(switchMap, "utf8")).toMatch(/^live green\n/);
  });

  it("deploy.sh puts a release in force, and a failing one rolls back with a non-zero exit", async () => {
    const ok = script("blue", "deploy", ["r2"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, "blue/var/lib/yquant/release"), "utf8")).toBe("r2\n");
    expect(
      JSON.parse((await get(`http://${layout.nodes.blue.privateIp}:${layout.ports.app}/health`)).body),
    ).toEqual({
      color: "blue",
      release: "r2",
      status: "ok",
    });

    // A repository whose app exits at once never reports healthy.
    const repo = path.join(dir, "bad-repo");
    fs.mkdirSync(repo);
    fs.writeFileSync(path.join(repo, "app.py"), "import sys\nsys.exit(3)\n");
    const git = (...args: string[]) =>
      spawnSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args], {
        encoding: "utf8",
      });
    git("init", "-q");
    git("add", "app.py");
    git("commit", "-qm", "bad");
    git("tag", "bad1");
    const envFile = path.join(dir, "blue/etc/yquant/node.env");
    const original = fs.readFileSync(envFile, "utf8");
    fs.writeFileSync(envFile, original.replace("APP_REPOSITORY=''", `APP_REPOSITORY='${repo}'`));
    try {
      const bad = script("blue", "deploy", ["bad1"], { YQ_DEPLOY_TIMEOUT: "3" });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain("deploy.sh: release bad1 did not report healthy within 3s");
      expect(bad.stderr).toContain("deploy.sh: rolled back to r2");
    } finally {
      fs.writeFileSync(envFile, original);
    }
    expect(fs.readlinkSync(path.join(dir, "blue/opt/yquant/current"))).toBe("releases/r2");
    expect(fs.readFileSync(path.join(dir, "blue/var/lib/yquant/release"), "utf8")).toBe("r2\n");
    expect(
      JSON.parse((await get(`http://${layout.nodes.blue.privateIp}:${layout.ports.app}/health`)).body),
    ).toMatchObject({
      release: "r2",
    });
  });
  it("refuses a switch to a color whose app is down, and --force overrides with a warning", () => {
    const env = { ...process.env, YQ_ROOT: path.join(dir, "blue") };
    spawnSync(SHIM, ["stop", "yquant-frontend"], { env, timeout: 10_000 });
    const refused = script("gate", "switch-active", ["blue", "--drain", "0"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      "switch-active.sh: refusing to switch to blue: GET http://127.0.20.62:15000/health failed",
    );
    expect(refused.stderr).toContain("traffic stays on green");
    expect(fs.readFileSync(switchMap, "utf8")).toMatch(/^live green\n/);
    const forced = script("gate", "switch-active", ["blue", "--drain", "0", "--force"]);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toContain("switch-active.sh: WARNING: blue is unhealthy");
    expect(fs.readFileSync(switchMap, "utf8")).toMatch(/^live blue\n/);
  });
});
