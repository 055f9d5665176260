/**
 * The lab CLI: bad arguments (exit 2, the argument and its allowed values named, nothing changed),
 * `status --json` against its documented schema, and fault injection (kill, start, freeze, thaw,
 * down by pid only).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_NAMES } from "../../cloud-init/layout";
import { Lab } from "../../lab/lab";
import { processGroup } from "../../lab/processes";
import { nodeServices } from "../../lab/services";
import { LAB_USAGE, LabCommand, labCommandUsage } from "../../lab/cli-args";
import { cli, labDown, labUp } from "./helpers";

describe("bad arguments: exit 2, clear message, nothing changed", () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "yq-lab-args-"));
  const labDirArg = path.join(empty, "lab");
  // Every refusal's exact text is in tests/cli/lab-args.test.ts; these run the CLI itself.
  const cases: [string[], string][] = [
    [
      ["frobnicate"],
      'unknown command "frobnicate": expected one of up, status, switch, deploy, kill, freeze, thaw, partition, heal, start, down, bench, alerts, help',
    ],
    [["switch", "purple"], 'invalid <color> "purple": expected one of blue, green'],
    [
      ["switch", "green", "--now"],
      'switch: unknown option "--now": allowed --drain S, --force, --no-promote, -h/--help',
    ],
    [
      ["kill", "gate", "frontend"],
      'invalid [service] "frontend" for gate: expected one of valkey, replica, sentinel, haproxy, node-exporter, node-metrics',
    ],
    [["bench", "--repeat", "0"], 'invalid --repeat "0": a whole number of runs from 1 to 10'],
    [["up", "now"], 'up: unexpected argument "now"'],
  ];
  for (const [args, message] of cases) {
    it(`lab ${args.join(" ")}`, () => {
      const r = cli(args, { YQ_LAB_DIR: labDirArg }, 60_000);
      expect([r.status, r.stdout, r.stderr]).toEqual([2, "", `lab: ${message}\n`]);
      expect(fs.existsSync(labDirArg)).toBe(false);
    });
  }

  it.each([[["help"]], [["--help"]], [["-h"]], [["switch", "--help"]], [["help", "bench"]]])(
    "lab %j prints the usage on stdout and exits 0",
    (args) => {
      const r = cli(args, { YQ_LAB_DIR: labDirArg }, 60_000);
      const topic = args.length === 2 ? (args[0] === "help" ? args[1] : args[0]) : undefined;
      const usage = topic ? labCommandUsage(topic as LabCommand) : LAB_USAGE;
      expect([r.status, r.stdout, r.stderr]).toEqual([0, `${usage}\n`, ""]);
      expect(fs.existsSync(labDirArg)).toBe(false);
    },
  );

  it("commands other than up and down refuse a lab that was never brought up", () => {
    const r = cli(["status"], { YQ_LAB_DIR: labDirArg }, 60_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no lab at ${labDirArg}: run \`npm run lab\` (up) first`);
    expect(fs.existsSync(labDirArg)).toBe(false);
  });
});

describe("with the lab up", () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await labUp();
  });

  afterAll(async () => {
    if (lab) await labDown(lab);
  });

  it("status --json follows the documented schema", () => {
    const r = cli(["status", "--json"]);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(s)).toEqual([
      "schema",
      "labDir",
      "activeColor",
      "messageMaster",
      "sentinelViews",
      "endpoints",
      "nodes",
    ]);
    expect(s.schema).toBe("yquant-lab-status/1");
    expect(s.labDir).toBe(lab.dir);
    expect(s.activeColor).toBe("blue");
    expect(s.messageMaster).toEqual({ address: "127.0.10.2", port: lab.layout.ports.valkey, node: "blue" });
    expect(s.sentinelViews).toEqual({
      gate: "127.0.10.2:6379",
      blue: "127.0.10.2:6379",
      green: "127.0.10.2:6379",
    });
    const e = s.endpoints as Record<string, unknown>;
    const http = lab.layout.ports.http;
    expect(e).toEqual({
      live: `http://127.0.10.1:${http}/`,
      liveTls: `https://127.0.10.1:${lab.layout.ports.https}/`,
      staging: "http://127.0.10.1:8080/",
      stats: "http://127.0.10.1:8404/stats",
      metrics: "http://127.0.10.1:8404/metrics",
      valkey: { gate: "127.0.10.1:6379", blue: "127.0.10.2:6379", green: "127.0.10.3:6379" },
      sentinel: { gate: "127.0.10.1:26379", blue: "127.0.10.2:26379", green: "127.0.10.3:26379" },
    });
    const nodes = s.nodes as {
      name: string;
      address: string;
      root: string;
      services: Record<string, unknown>[];
    }[];
    expect(nodes.map((n) => [n.name, n.address, n.root])).toEqual(
      NODE_NAMES.map((n) => [n, lab.address(n), lab.root(n)]),
    );
    expect(nodes[0]?.services.map((x) => x.name)).toEqual([
      "valkey",
      "replica",
      "sentinel",
      "haproxy",
      "node-exporter",
      "node-metrics",
    ]);
    expect(nodes[1]?.services.map((x) => x.name)).toEqual([
      "valkey",
      "sentinel",
      "frontend",
      "backend",
      "sync",
      "node-exporter",
      "node-metrics",
      "redis-exporter",
      "prometheus",
      "alertmanager",
    ]);
    for (const n of nodes) {
      for (const svc of n.services) {
        expect(Object.keys(svc)).toEqual(["name", "unit", "port", "pid", "health", "detail"]);
        expect(svc.health).toBe("ok");
        expect(typeof svc.pid).toBe("number");
        expect(typeof svc.detail).toBe("string");
      }
    }
    const ports = nodes[1]?.services.map((x) => x.port);
    expect(ports).toEqual([6379, 26379, 5000, null, null, 9100, null, 9121, 9090, 9093]);
  });

  it("status prints a table with every node and service", () => {
    const r = cli(["status"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("active color: blue   message master (Sentinel): blue 127.0.10.2:6379");
    expect(r.stdout.split("\n").filter((l) => /^(gate|blue|green)\s/.test(l))).toHaveLength(26);
  });

  it("kill <node> <service> crashes it, status shows it stopped, start brings it back", () => {
    const before = lab.pid("green", "valkey-sentinel");
    expect(before).not.toBeNull();
    const k = cli(["kill", "green", "sentinel"]);
    expect(k.status).toBe(0);
    expect(k.stdout).toContain(`green/sentinel: SIGKILL (pid ${before})`);
    expect(lab.pid("green", "valkey-sentinel")).toBeNull();
    const s = JSON.parse(cli(["status", "--json"]).stdout) as {
      nodes: { services: { unit: string; health: string; pid: number | null }[] }[];
    };
    const svc = s.nodes[2]?.services.find((x) => x.unit === "valkey-sentinel");
    expect(svc).toMatchObject({ health: "stopped", pid: null });
    const st = cli(["start", "green", "sentinel"]);
    expect(st.status).toBe(0);
    expect(lab.pid("green", "valkey-sentinel")).not.toBeNull();
  });

  it("freeze stops every process of a node, thaw resumes them", () => {
    // A short-lived child (node-metrics.sh's `sleep`) may end between the listing and the check.
    const state = (pid: number): string => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? "";
      } catch {
        return "gone";
      }
    };
    const pids = lab.nodePids("green");
    expect(pids.length).toBeGreaterThanOrEqual(5);
    expect(cli(["freeze", "green"]).status).toBe(0);
    try {
      expect(pids.map(state).every((x) => x === "T" || x === "gone")).toBe(true);
      expect(pids.map(state).filter((x) => x === "T").length).toBeGreaterThanOrEqual(5);
    } finally {
      expect(cli(["thaw", "green"]).status).toBe(0);
    }
    expect(pids.map(state).some((x) => x === "T")).toBe(false);
  });

  it("down stops exactly the lab's processes, by pid; up brings it back", async () => {
    const bystander = spawn("sleep", ["120"], { stdio: "ignore", detached: true });
    try {
      const pids = NODE_NAMES.flatMap((n) =>
        nodeServices(lab.layout, n).map((s) => lab.pid(n, s.unit) as number),
      );
      expect(pids.every((p) => p !== null)).toBe(true);
      const groups = pids.flatMap((p) => processGroup(p));
      const d = cli(["down"]);
      expect(d.status).toBe(0);
      // Every unit of every node, and the on-call webhook receiver.
      expect(d.stdout).toContain(`lab: down: ${pids.length + 1} processes stopped`);
      for (const p of groups)
        expect(
          fs.existsSync(`/proc/${p}`) && !fs.readFileSync(`/proc/${p}/stat`, "utf8").includes(") Z "),
        ).toBe(false);
      expect(fs.existsSync(`/proc/${bystander.pid}`)).toBe(true);
      const u = cli(["up"], {}, 240_000);
      expect(u.status).toBe(0);
      expect(u.stdout).toContain("user data unchanged since the last up: files kept");
      expect(u.stdout).toContain("switch colors: npm run lab -- switch green");
    } finally {
      bystander.kill("SIGKILL");
    }
  });
});
