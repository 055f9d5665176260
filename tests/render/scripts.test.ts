/**
 * The operations scripts' argument handling, run from a materialised node root: a usage error exits
 * 2 with a clear message and changes no file; a refused switch exits 1 and changes nothing.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Layout } from "../../cloud-init/layout";
import { deliveredScript } from "../../cloud-init/node-files";
import { localLayout, materialise, run, tempDir, treeDigest } from "./helpers";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

// 127.0.20.31-33: nothing listens there, so every health check fails fast.
const dir = tempDir("scripts");
let layout: Layout;
const script = (node: "gate" | "blue", name: string): string =>
  path.join(dir, node, "opt/yquant/bin", `${name}.sh`);

beforeAll(() => {
  layout = localLayout(dir, 30, { serviceControl: "/bin/false" });
  materialise(layout, "gate");
  materialise(layout, "blue");
  // Not in the user data: the switch command installs it on the gate (COMMAND_DELIVERED_SCRIPTS).
  fs.writeFileSync(script("gate", "promote-master"), deliveredScript("promote-master"), { mode: 0o755 });
  expect(run(script("gate", "switch-active"), ["init"]).status).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function expectUsageError(node: "gate" | "blue", name: string, args: string[], message: string): void {
  const before = treeDigest(dir);
  const result = run(script(node, name), args);
  expect(result.status, `${name} ${args.join(" ")}: ${result.stderr}`).toBe(2);
  expect(result.stderr).toContain(message);
  expect(result.stderr).toContain(`usage: ${name}.sh`);
  expect(treeDigest(dir)).toEqual(before);
}

/** A copy of `name`.sh from `from` put on `to` refuses to run there: exit 2 and `message`. */
function expectWrongNode(
  from: "gate" | "blue",
  to: "gate" | "blue",
  name: string,
  args: string[],
  message: string,
): void {
  fs.copyFileSync(script(from, name), script(to, name));
  const result = run(script(to, name), args);
  fs.rmSync(script(to, name));
  expect(result.status).toBe(2);
  expect(result.stderr).toContain(message);
}

const invalidDrain = (value: string): string =>
  `switch-active.sh: invalid --drain '${value}': a whole number of seconds from 0 to 3600`;

describe("switch-active.sh", () => {
  it.each([
    [["purple"], "switch-active.sh: unknown color 'purple': expected blue or green"],
    [[], "switch-active.sh: missing the target color (blue or green)"],
    [["green", "--drain"], "switch-active.sh: --drain needs a number of seconds"],
    ...["abc", "3601", "-5"].map((value): [string[], string] => [
      ["green", "--drain", value],
      invalidDrain(value),
    ]),
    [["green", "--drain=1.5"], invalidDrain("1.5")],
    [["green", "blue"], "switch-active.sh: only one color or command may be given"],
    [["status", "green"], "switch-active.sh: only one color or command may be given"],
    [["green", "--now"], "switch-active.sh: unknown option '--now'"],
    [["green", "--json"], "switch-active.sh: --json goes with status only"],
    [["status", "--drain", "3"], "switch-active.sh: --drain and --force go with a color"],
  ])("%j is a usage error", (args, message) => {
    expectUsageError("gate", "switch-active", args, message);
  });

  it("without HAProxy answering, a switch exits 1 and changes nothing", () => {
    const before = treeDigest(dir);
    const result = run(script("gate", "switch-active"), ["green", "--drain", "0"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `switch-active.sh: HAProxy does not answer on ${dir}/gate/run/haproxy/admin.sock with ${dir}/gate/etc/haproxy/yquant/switch.map; nothing changed\n`,
    );
    // Only the lock, the intent and the health check's output may appear.
    const scratch = ["switch.lock", "switch.intent", "switch.health"].map((f) => `gate/var/lib/yquant/${f}`);
    const after = Object.fromEntries(Object.entries(treeDigest(dir)).filter(([k]) => !scratch.includes(k)));
    expect(after).toEqual(before);
  });

  it("status without HAProxy says so, and exits 1", () => {
    const result = run(script("gate", "switch-active"), ["status"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe(
      "live (HAProxy): unknown (HAProxy does not answer)   on disk: blue   drain: none\n",
    );
    const json = run(script("gate", "switch-active"), ["status", "--json"]);
    expect(json.status).toBe(1);
    expect(json.stdout).toBe('{"live":null,"disk":"blue","agree":false,"drain":"none"}\n');
  });

  it("init writes the first map once, and keeps it after", () => {
    const map = path.join(dir, "gate/etc/haproxy/yquant/switch.map");
    expect(fs.readFileSync(map, "utf8")).toBe("live blue\ndrain-blue 0\ndrain-green 0\n");
    const again = run(script("gate", "switch-active"), ["init"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(`switch-active.sh: ${map} exists: kept\n`);
  });

  it("runs on the gate only", () => {
    // It is not installed on the engines; a copy put there refuses to run.
    expectWrongNode(
      "gate",
      "blue",
      "switch-active",
      ["green"],
      "switch-active.sh: runs on the gate only; this node is blue",
    );
  });
});

describe("promote-master.sh", () => {
  it.each([
    [[], "promote-master.sh: missing the target color (blue or green)"],
    [["purple"], "promote-master.sh: unknown color 'purple': expected blue or green"],
    [["green", "blue"], "promote-master.sh: only one color may be given"],
    [["green", "--pause-timeout"], "promote-master.sh: --pause-timeout needs a number of milliseconds"],
    // The lease's floor: two renewals can be 7 s apart on slow nodes (docs/valkey.md, step 2).
    ...["9999", "60001", "15s"].map((value): [string[], string] => [
      ["green", "--pause-timeout", value],
      `promote-master.sh: invalid --pause-timeout '${value}': milliseconds from 10000 to 60000`,
    ]),
    [["green", "--now"], "promote-master.sh: unknown option '--now'"],
  ])("%j is a usage error", (args, message) => {
    expectUsageError("gate", "promote-master", args, message);
  });
});

describe("deploy.sh", () => {
  it.each([
    [[], "deploy.sh: expected exactly one argument, the release; got 0"],
    [["a", "b"], "deploy.sh: expected exactly one argument, the release; got 2"],
    [["../etc"], "deploy.sh: invalid release '../etc'"],
    [["v1..2"], "deploy.sh: invalid release 'v1..2'"],
    [["-rf"], "deploy.sh: invalid release '-rf'"],
    [["has space"], "deploy.sh: invalid release 'has space'"],
  ])("%j is a usage error", (args, message) => {
    expectUsageError("blue", "deploy", args, message);
  });

  it("runs on an engine only", () => {
    expectWrongNode(
      "blue",
      "gate",
      "deploy",
      ["placeholder"],
      "deploy.sh: runs on an engine (blue or green); this node is gate",
    );
  });
});

describe("health-check.sh and setup.sh", () => {
  it("health-check.sh refuses an unknown argument", () => {
    expectUsageError("gate", "health-check", ["--yaml"], "health-check.sh: unknown argument '--yaml'");
  });

  it("setup.sh takes no argument", () => {
    expectUsageError("gate", "setup", ["now"], "setup.sh: unexpected argument 'now'");
  });

  it("health-check.sh --json reports every failed check in a stable shape and exits non-zero", () => {
    const result = run(script("gate", "health-check"), ["--json"]);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as {
      node: string;
      ok: boolean;
      checks: { name: string; ok: boolean }[];
    };
    expect(Object.keys(report)).toEqual(["node", "ok", "checks"]);
    expect(report.node).toBe("gate");
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ["haproxy", false],
      ["switch", false],
      ["valkey", false],
      ["sentinel", false],
      ["message-replica", false],
      ["message-master", false],
    ]);
  });
});

describe("the /health contract (health-check.sh on an engine, parsed with jq)", () => {
  // A stand-in app on blue's address answers each body in turn; health-check.sh's `app` check reads it.
  async function appCheck(body: string): Promise<{ ok: boolean; detail: string }> {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(body);
    });
    await new Promise<void>((resolve) =>
      server.listen(layout.ports.app, layout.nodes.blue.privateIp, resolve),
    );
    try {
      const { stdout } = await execFileAsync(script("blue", "health-check"), ["--json"]).catch(
        (error: { stdout: string }) => ({ stdout: error.stdout }),
      );
      const report = JSON.parse(stdout) as { checks: { name: string; ok: boolean; detail: string }[] };
      const app = report.checks.find((c) => c.name === "app");
      if (!app) throw new Error(`no app check in ${stdout}`);
      return { ok: app.ok, detail: app.detail };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it("accepts compact and pretty JSON alike, in any key order", async () => {
    expect(await appCheck('{"status":"ok","color":"blue","release":"r1"}')).toEqual({
      ok: true,
      detail: "status ok, color blue, release r1",
    });
    expect(await appCheck('{\n  "release": "r1",\n  "color": "blue",\n  "status": "ok"\n}\n')).toEqual({
      ok: true,
      detail: "status ok, color blue, release r1",
    });
  });

  it("refuses a body that only looks like it, another color, or a status other than ok", async () => {
    const url = `GET /health on ${layout.nodes.blue.privateIp}:${layout.ports.app}`;
    expect(await appCheck('not json but "status": "ok"')).toEqual({
      ok: false,
      detail: `${url}: not a JSON object: not json but status: ok`,
    });
    expect(await appCheck('{"status":"ok","color":"green","release":"r1"}')).toEqual({
      ok: false,
      detail: `${url}: status, color, release are 'ok green r1', expected 'ok blue ...'`,
    });
    expect(await appCheck('{"status":"degraded","color":"blue","release":"r1"}')).toEqual({
      ok: false,
      detail: `${url}: status, color, release are 'degraded blue r1', expected 'ok blue ...'`,
    });
  });
});
