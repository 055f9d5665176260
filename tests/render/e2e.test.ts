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
import { renderHaproxyVariant } from "../../cloud-init/user-data";
import { acquireLock, localLayout, materialise, tempDir } from "./helpers";

const SHIM = path.join(__dirname, "fixtures/service-control.sh");
const UNITS = [
  "yquant-frontend",
  "yquant-backend",
  "yquant-sync",
  "haproxy",
  "valkey-sentinel",
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
    expect(fs.readFileSync(path.join(dir, "gate/var/lib/yquant/active-color"), "utf8")).toBe("blue\n");
    expect(fs.readFileSync(path.join(dir, "gate/etc/haproxy/haproxy.cfg"), "utf8")).toBe(
      renderHaproxyVariant(layout, "blue"),
    );
    expect(fs.existsSync(path.join(dir, "gate/usr/sbin/policy-rc.d"))).toBe(false);
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

  it("switch-active.sh green drains blue's cookies, then sends them to green", async () => {
    const child = spawn(path.join(dir, "gate/opt/yquant/bin/switch-active.sh"), ["green", "--drain", "3"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await eventually(() => output.includes("draining blue"), "the drain to start", 20_000);
    expect((await get(`${live}/`)).body).toContain("on green");
    expect((await get(`${live}/`, "SERVERID=blue")).body).toContain("on blue");
    expect(fs.readFileSync(path.join(dir, "gate/etc/haproxy/yquant/draining.lst"), "utf8")).toBe("blue\n");
    expect(await exited, output).toBe(0);
    expect(output).toContain("switch-active.sh: drain over: requests naming blue now go to green");
    expect((await get(`${live}/`, "SERVERID=blue")).body).toContain("on green");
    expect(fs.readFileSync(path.join(dir, "gate/var/lib/yquant/active-color"), "utf8")).toBe("green\n");
    expect(fs.readFileSync(path.join(dir, "gate/etc/haproxy/yquant/draining.lst"), "utf8")).toBe("");
    expect(fs.readFileSync(path.join(dir, "gate/etc/haproxy/haproxy.cfg"), "utf8")).toBe(
      renderHaproxyVariant(layout, "green"),
    );
    const order = await fetch(`${live}/orders`, { method: "POST", body: JSON.stringify({ id: "e2e-1" }) });
    expect(order.status).toBe(201);
    expect(fs.readFileSync(path.join(dir, "green/var/lib/yquant/orders.log"), "utf8")).toBe("e2e-1 green\n");
  });

  it("interrupting the drain window ends the drain at once (trap), the switch stays done", async () => {
    const child = spawn(path.join(dir, "gate/opt/yquant/bin/switch-active.sh"), ["blue", "--drain", "60"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await eventually(() => output.includes("draining green"), "the drain to start", 20_000);
    expect(fs.readFileSync(path.join(dir, "gate/etc/haproxy/yquant/draining.lst"), "utf8")).toBe("green\n");
    child.kill("SIGTERM");
    expect(await exited, output).toBe(130);
    expect(output).toContain("switch-active.sh: interrupted: drain of green ended early");
    expect(fs.readFileSync(path.join(dir, "gate/etc/haproxy/yquant/draining.lst"), "utf8")).toBe("");
    expect(fs.readFileSync(path.join(dir, "gate/var/lib/yquant/active-color"), "utf8")).toBe("blue\n");
    expect((await get(`${live}/`, "SERVERID=green")).body).toContain("on blue");
    // Back to green for the tests below.
    const back = script("gate", "switch-active", ["green", "--drain", "0"]);
    expect(back.status, back.stderr).toBe(0);
  });

  it("setup.sh again is safe: keeps the active color and restarts nothing", () => {
    const pid = fs.readFileSync(path.join(dir, "gate/run/test/haproxy.pid"), "utf8");
    const result = script("gate", "setup");
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, "gate/run/test/haproxy.pid"), "utf8")).toBe(pid);
    expect(fs.readFileSync(path.join(dir, "gate/etc/haproxy/haproxy.cfg"), "utf8")).toBe(
      renderHaproxyVariant(layout, "green"),
    );
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
    expect(fs.readFileSync(path.join(dir, "gate/var/lib/yquant/active-color"), "utf8")).toBe("green\n");
    const forced = script("gate", "switch-active", ["blue", "--drain", "0", "--force"]);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toContain("switch-active.sh: WARNING: blue is unhealthy");
    expect(fs.readFileSync(path.join(dir, "gate/var/lib/yquant/active-color"), "utf8")).toBe("blue\n");
  });
});
