/** The lab CLI's command line (lab/cli-args.ts), its port check (lab/ports.ts) and bench's missed goals. */
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../cli/args";
import { LAB_COMMANDS, LAB_USAGE, labCommandUsage, parseLabArgs } from "../../lab/cli-args";
import { BenchResults, missedGoals } from "../../lab/bench";
import { SCENARIO_NAMES } from "../../lab/scenarios/registry";
import { labLayout } from "../../lab/layout";
import { findPortConflict, listenersOf } from "../../lab/ports";
import { SWITCH_STEPS, stepTimes } from "../../lab/scenarios/s1-switch-under-load";
import { countProcesses, startCost } from "../../lab/scenarios/process-cost";
import { MONITORING_STARTUP_GOAL_S, startupOrder } from "../../lab/scenarios/s18-startup";

const IDS = Object.keys(SCENARIO_NAMES).join(", ");
const COMMANDS =
  "up, status, switch, deploy, kill, freeze, thaw, partition, heal, start, down, bench, alerts, help";

describe("parseLabArgs", () => {
  it("reads each command", () => {
    expect(parseLabArgs([])).toEqual({ command: "up", monitoring: true });
    expect(parseLabArgs(["up", "--no-monitoring"])).toEqual({ command: "up", monitoring: false });
    expect(parseLabArgs(["--no-monitoring"])).toEqual({ command: "up", monitoring: false });
    expect(parseLabArgs(["status", "--json"])).toEqual({ command: "status", json: true });
    expect(parseLabArgs(["switch", "green", "--drain", "0", "--no-promote"])).toEqual({
      command: "switch",
      color: "green",
      drainSeconds: 0,
      force: false,
      promote: false,
    });
    expect(parseLabArgs(["switch", "blue", "--force"])).toEqual({
      command: "switch",
      color: "blue",
      force: true,
      promote: true,
    });
    expect(parseLabArgs(["deploy", "green", "v1.2"])).toEqual({
      command: "deploy",
      color: "green",
      release: "v1.2",
    });
    expect(parseLabArgs(["kill", "blue", "app"])).toEqual({ command: "kill", node: "blue", service: "app" });
    expect(parseLabArgs(["thaw", "gate"])).toEqual({ command: "thaw", node: "gate" });
    expect(parseLabArgs(["partition", "blue"])).toEqual({ command: "partition", node: "blue" });
    expect(parseLabArgs(["heal", "blue"])).toEqual({ command: "heal", node: "blue" });
    expect(parseLabArgs(["bench", "--repeat", "3", "--only", "12,1,1"])).toEqual({
      command: "bench",
      json: false,
      repeat: 3,
      only: [1, 12],
    });
  });

  it("help: -h, --help and help on every command and subcommand", () => {
    for (const argv of [["help"], ["-h"], ["--help"]])
      expect(parseLabArgs(argv)).toEqual({ command: "help" });
    for (const c of LAB_COMMANDS.filter((x) => x !== "help")) {
      for (const argv of [
        [c, "--help"],
        [c, "-h"],
        ["help", c],
      ]) {
        expect(parseLabArgs(argv)).toEqual({ command: "help", topic: c });
      }
    }
    expect(labCommandUsage("switch").split("\n")[0]).toBe(
      "usage: npm run lab -- switch <blue|green> [--drain S] [--force] [--no-promote]",
    );
    expect(LAB_USAGE.split("\n")[0]).toBe("usage: npm run lab -- <command>");
    expect(labCommandUsage("up").split("\n").slice(0, 4)).toEqual([
      "usage: npm run lab -- up [--no-monitoring]",
      "    render, materialise, start everything, wait for health (default); --no-monitoring: leave the",
      "    exporters, Prometheus, Alertmanager and the webhook receiver stopped (a quicker lab; alerts",
      "    and scenario 13 need them)",
    ]);
  });

  it.each([
    [["frobnicate"], `unknown command "frobnicate": expected one of ${COMMANDS}`],
    [["help", "frobnicate"], `help: unknown command "frobnicate": expected one of ${COMMANDS}`],
    [["switch"], "missing <color>: expected one of blue, green"],
    [["switch", "purple"], 'invalid <color> "purple": expected one of blue, green'],
    [
      ["switch", "green", "--drain", "soon"],
      'invalid --drain "soon": a whole number of seconds from 0 to 3600',
    ],
    [
      ["switch", "green", "--drain", "4000"],
      'invalid --drain "4000": a whole number of seconds from 0 to 3600',
    ],
    [["switch", "green", "--drain", "-5"], 'switch: invalid --drain "-5": values may not start with "-"'],
    [["switch", "green", "--drain"], "switch: --drain needs a value: S"],
    [
      ["switch", "green", "--now"],
      'switch: unknown option "--now": allowed --drain S, --force, --no-promote, -h/--help',
    ],
    [["switch", "green", "blue"], 'switch: unexpected argument "blue"'],
    [["deploy", "blue"], "missing <release>: e.g. placeholder, or a git ref of appRepository"],
    [
      ["deploy", "blue", "../etc"],
      `invalid <release> "../etc": letters, digits, '.', '_', '-' or '/' (no '..')`,
    ],
    [["deploy", "red", "v1"], 'invalid <color> "red": expected one of blue, green'],
    [["kill"], "missing <node>: expected one of gate, blue, green"],
    [["kill", "db"], 'invalid <node> "db": expected one of gate, blue, green'],
    [["kill", "gate", "haproxy", "now"], 'kill: unexpected argument "now"'],
    [["freeze", "all"], 'invalid <node> "all": expected one of gate, blue, green'],
    [["thaw"], "missing <node>: expected one of gate, blue, green"],
    [["partition", "all"], 'invalid <node> "all": expected one of gate, blue, green'],
    [["heal"], "missing <node>: expected one of gate, blue, green"],
    [["partition", "blue", "green"], 'partition: unexpected argument "green"'],
    [["status", "--yaml"], 'status: unknown option "--yaml": allowed --json, -h/--help'],
    [["status", "--json=yes"], "status: --json takes no value: allowed --json, -h/--help"],
    [["bench", "fast"], 'bench: unexpected argument "fast"'],
    [["bench", "--repeat", "0"], 'invalid --repeat "0": a whole number of runs from 1 to 10'],
    [["bench", "--repeat", "x"], 'invalid --repeat "x": a whole number of runs from 1 to 10'],
    [["bench", "--repeat", "11"], 'invalid --repeat "11": a whole number of runs from 1 to 10'],
    [["bench", "--json", "--repeat"], "bench: --repeat needs a value: N"],
    [
      ["bench", "--only", "20"],
      `invalid --only "20": scenario numbers, comma-separated (e.g. 1,12), of ${IDS}`,
    ],
    [
      ["bench", "--only", "1,,2"],
      `invalid --only "1,,2": scenario numbers, comma-separated (e.g. 1,12), of ${IDS}`,
    ],
    [["up", "now"], 'up: unexpected argument "now"'],
    [["--json"], 'up: unknown option "--json": allowed --no-monitoring, -h/--help'],
    [["up", "--monitoring"], 'up: unknown option "--monitoring": allowed --no-monitoring, -h/--help'],
    [["down", "please"], 'down: unexpected argument "please"'],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseLabArgs(argv)).toThrow(new UsageError(message));
  });
});

describe("lab up's port check", () => {
  /** An engine's monitoring listeners (cloud-init/monitoring.ts): agents and the servers. */
  const MONITORING_SERVER = ["node-exporter", "redis-exporter", "prometheus", "alertmanager"];

  it("lists every address the lab binds, leaving out running services", () => {
    const layout = labLayout({ dir: "/nonexistent/lab", createSecrets: false });
    const all = listenersOf(layout, () => false);
    expect(
      all.filter((l) => l.what.startsWith("gate haproxy")).map((l) => `${l.host}:${l.port} ${l.what}`),
    ).toEqual([
      "127.0.10.1:80 gate haproxy (live HTTP)",
      "127.0.10.1:443 gate haproxy (live HTTPS)",
      "127.0.10.1:8080 gate haproxy (staging)",
      "127.0.10.1:8404 gate haproxy (stats)",
    ]);
    expect(all.map((l) => l.what)).toEqual([
      "gate valkey",
      "gate replica",
      "gate sentinel",
      "gate haproxy (live HTTP)",
      "gate haproxy (live HTTPS)",
      "gate haproxy (staging)",
      "gate haproxy (stats)",
      "gate node-exporter",
      "blue valkey",
      "blue sentinel",
      "blue frontend",
      ...MONITORING_SERVER.map((s) => `blue ${s}`),
      "green valkey",
      "green sentinel",
      "green frontend",
      ...MONITORING_SERVER.map((s) => `green ${s}`),
    ]);
    expect(listenersOf(layout, (node) => node !== "green").map((l) => l.what)).toEqual([
      "green valkey",
      "green sentinel",
      "green frontend",
      ...MONITORING_SERVER.map((s) => `green ${s}`),
    ]);
  });

  it("names a taken port in one line", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await findPortConflict([{ host: "127.0.0.1", port, what: "gate haproxy (stats)" }])).toBe(
        `127.0.0.1:${port} is in use by another process, and gate haproxy (stats) needs it: stop that process (ss -ltnp names it), or run the lab in its own network namespace (docs/lab.md)`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await findPortConflict([{ host: "127.0.0.1", port, what: "x" }])).toBeUndefined();
  });
});

describe("bench: missed goals", () => {
  const results = (met: boolean | null, error: string | null = null): BenchResults => ({
    schema: "yquant-lab-bench/1",
    startedAt: "2026-12-02T00:00:00.000Z",
    machine: { cpus: 2, haproxy: "2.6", valkey: "8.0" },
    scenarios: [
      {
        id: 1,
        name: "switch under load",
        durationSeconds: 30,
        error,
        figures: [
          {
            key: "toGreenFirstNewSessionMs",
            name: "switch blue->green: command to first new session on green",
            value: 45.2,
            unit: "ms",
            goal: "<= 20 ms",
            met,
          },
        ],
      },
    ],
  });

  it("names each missed goal and failed scenario; none when all are met", () => {
    expect(missedGoals(results(true))).toEqual([]);
    expect(missedGoals(results(null))).toEqual([]);
    expect(missedGoals(results(false, "lab died\nmore"))).toEqual([
      "1 switch under load: failed: lab died",
      "1 switch under load: switch blue->green: command to first new session on green = 45.2 ms (goal <= 20 ms)",
    ]);
  });
});

describe("bench: the switch's steps", () => {
  it("reads each YQ_SWITCH_TIMING mark as ms after the spawn, on the same clock", () => {
    const origin = 1_796_170_000_000; // performance.timeOrigin, epoch ms
    const stderr = [
      "switch-active.sh: timing start 1796170000.140250",
      "noise",
      "switch-active.sh: timing locked 1796170000.152000",
      "switch-active.sh: timing committed 1796170000.181500",
    ].join("\n");
    expect(stepTimes(stderr, 100, origin)).toEqual({ start: 40.3, locked: 52, committed: 81.5 });
    expect(SWITCH_STEPS).toEqual(["start", "locked", "read", "probed", "written", "committed"]);
  });

  it("counts a switch's programs and forks from strace -f, an exec split by another line included", () => {
    const trace = [
      '10 execve("/gate/opt/yquant/bin/switch-active.sh", ["/gate/opt/yquant/bin/switch-ac"..., "blue"], 0x7f /* 35 vars */) = 0',
      "10 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x7f) = 11",
      '11 execve("/usr/bin/curl", ["curl", "-fsS"], 0x56 /* 36 vars */ <unfinished ...>',
      "10 clone3({flags=CLONE_VM, exit_signal=SIGCHLD}, 88 <unfinished ...>",
      '12 execve("/usr/bin/socat", ["socat"], 0x56 /* 36 vars */) = 0',
      "10 <... clone3 resumed>) = 12",
      "11 <... execve resumed>)             = 0",
      '13 execve("/root/bin/env", ["env"], 0x56 /* 36 vars */) = -1 ENOENT (No such file or directory)',
      "10 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11, si_status=0} ---",
    ].join("\n");
    expect(countProcesses(trace)).toEqual({ programs: ["switch-active.sh", "socat", "curl"], forks: 2 });
  });

  it("gives the median and the slowest process start, or nulls without samples", () => {
    expect(startCost([3.1, 40.2, 5, 7.5])).toEqual({ medianMs: 6.25, maxMs: 40.2, samples: 4 });
    expect(startCost([])).toEqual({ medianMs: null, maxMs: null, samples: 0 });
  });
});

describe("bench: lab startup (scenario 18)", () => {
  it("alternates with and without monitoring, mirrored per pair of rounds", () => {
    expect(startupOrder(1)).toEqual([true, false]);
    expect(startupOrder(2)).toEqual([true, false, false, true]);
    expect(startupOrder(3)).toEqual([true, false, false, true, true, false]);
    expect(MONITORING_STARTUP_GOAL_S).toBe(3);
  });
});
