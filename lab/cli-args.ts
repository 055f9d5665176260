/**
 * The lab CLI's command line (`npm run lab -- <command>`), parsed before anything is touched: one
 * table of commands (synopsis, what it does, its flags) drives the parser, the usage text and
 * `help <command>`. Parsing is cli/args.ts (util.parseArgs); a refusal is one line (exit 2).
 */
import { FlagSpecs, UsageError, noMore, oneOf, parseCommandLine } from "../cli/args";
import { COLORS, Color, NODE_NAMES, NodeName } from "../cloud-init/layout";
import { DRAIN_RULE, isReleaseRef, parseDrainSeconds } from "../rules";
import { SCENARIO_NAMES } from "./scenarios/registry";

export const LAB_COMMANDS = [
  "up",
  "status",
  "switch",
  "deploy",
  "kill",
  "freeze",
  "thaw",
  "partition",
  "heal",
  "start",
  "down",
  "bench",
  "alerts",
  "help",
] as const;
export type LabCommand = (typeof LAB_COMMANDS)[number];

/** The allowed values of `bench --repeat`. */
export const REPEAT_MIN = 1;
export const REPEAT_MAX = 10;
/** The scenario numbers `bench --only` takes: lab/scenarios/registry.ts's SCENARIO_NAMES. */
export function scenarioIds(): number[] {
  return Object.keys(SCENARIO_NAMES).map(Number);
}

interface CommandSpec {
  readonly synopsis: string;
  readonly text: string;
  readonly flags: FlagSpecs;
}

const SPECS: Readonly<Record<LabCommand, CommandSpec>> = {
  up: {
    synopsis: "up [--no-monitoring]",
    text:
      "render, materialise, start everything, wait for health (default); --no-monitoring: leave the\n" +
      "    exporters, Prometheus, Alertmanager and the webhook receiver stopped (a quicker lab; alerts\n" +
      "    and scenario 13 need them)",
    flags: { "no-monitoring": { type: "boolean" } },
  },
  status: {
    synopsis: "status [--json]",
    text: "nodes, services (port, pid, health), active color, message master",
    flags: { json: { type: "boolean" } },
  },
  switch: {
    synopsis: "switch <blue|green> [--drain S] [--force] [--no-promote]",
    text:
      "the cloud's switch steps on the gate: switch-active.sh, then promote-master.sh (not with\n" +
      "    --no-promote, as with messageMasterFollowsActive false)",
    flags: {
      drain: { type: "string", value: "S" },
      force: { type: "boolean" },
      "no-promote": { type: "boolean" },
    },
  },
  deploy: { synopsis: "deploy <blue|green> <release>", text: "run that engine's deploy.sh", flags: {} },
  kill: {
    synopsis: "kill <node> [service]",
    text: "SIGKILL a service, or every service of the node",
    flags: {},
  },
  freeze: { synopsis: "freeze <node>", text: "SIGSTOP every process of the node", flags: {} },
  thaw: { synopsis: "thaw <node>", text: "SIGCONT every process of the node", flags: {} },
  partition: {
    synopsis: "partition <node>",
    text:
      "drop every packet between the node's address and the other nodes' (iptables; only inside a\n" +
      "    named network namespace: ip netns exec <name> npm run lab -- ...)",
    flags: {},
  },
  heal: { synopsis: "heal <node>", text: "remove the node's partition rules", flags: {} },
  start: {
    synopsis: "start <node> [service]",
    text: "start a service (or every service of the node) again",
    flags: {},
  },
  down: { synopsis: "down", text: "stop everything the lab started, by pid", flags: {} },
  bench: {
    synopsis: "bench [--json] [--repeat N] [--only LIST]",
    text:
      `run the measured scenarios (N times, ${REPEAT_MIN}..${REPEAT_MAX}, default 1: median and min-max per\n` +
      "    figure; LIST: scenario numbers, e.g. 1,12); writes <lab dir>/bench.json; exits 1 when a goal is missed",
    flags: {
      json: { type: "boolean" },
      repeat: { type: "string", value: "N" },
      only: { type: "string", value: "LIST" },
    },
  },
  alerts: {
    synopsis: "alerts [--json]",
    text: "the firing alerts, as both engines' Prometheus servers see them",
    flags: { json: { type: "boolean" } },
  },
  help: { synopsis: "help [command]", text: "this text, or one command's", flags: {} },
};

const FOOTER =
  `nodes: ${NODE_NAMES.join(", ")}; services: gate: haproxy, valkey, sentinel; engines: valkey, sentinel,\n` +
  "frontend, backend, sync (app = frontend). Lab directory: $YQ_LAB_DIR or <repo>/.lab. -h, --help: usage";

export const LAB_USAGE = [
  "usage: npm run lab -- <command>",
  ...LAB_COMMANDS.map((c) => `  ${SPECS[c].synopsis}\n    ${SPECS[c].text}`),
  FOOTER,
].join("\n");

/** One command's usage (`help <command>`, `<command> --help`). */
export function labCommandUsage(command: LabCommand): string {
  return `usage: npm run lab -- ${SPECS[command].synopsis}\n    ${SPECS[command].text}\n${FOOTER}`;
}

export type LabInvocation =
  | { readonly command: "help"; readonly topic?: LabCommand }
  | { readonly command: "up"; readonly monitoring: boolean }
  | { readonly command: "down" }
  | { readonly command: "status" | "alerts"; readonly json: boolean }
  | {
      readonly command: "switch";
      readonly color: Color;
      /** Undefined: the layout's default. */
      readonly drainSeconds?: number;
      readonly force: boolean;
      readonly promote: boolean;
    }
  | { readonly command: "deploy"; readonly color: Color; readonly release: string }
  | { readonly command: "kill" | "start"; readonly node: NodeName; readonly service?: string }
  | { readonly command: "freeze" | "thaw" | "partition" | "heal"; readonly node: NodeName }
  | {
      readonly command: "bench";
      readonly json: boolean;
      readonly repeat: number;
      /** Undefined: every scenario. */
      readonly only?: readonly number[];
    };

function parseRepeat(value: string | undefined): number {
  if (value === undefined) return 1;
  if (!/^\d{1,2}$/.test(value) || Number(value) < REPEAT_MIN || Number(value) > REPEAT_MAX) {
    throw new UsageError(
      `invalid --repeat "${value}": a whole number of runs from ${REPEAT_MIN} to ${REPEAT_MAX}`,
    );
  }
  return Number(value);
}

function parseOnly(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const known = scenarioIds();
  const ids = value.split(",").map((v) => (/^\d{1,2}$/.test(v) ? Number(v) : NaN));
  if (ids.some((id) => !known.includes(id))) {
    throw new UsageError(
      `invalid --only "${value}": scenario numbers, comma-separated (e.g. 1,12), of ${known.join(", ")}`,
    );
  }
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** Parses the lab's command line; throws a UsageError (one line) on anything wrong. */
export function parseLabArgs(argv: readonly string[]): LabInvocation {
  const first = argv[0];
  const command: LabCommand =
    first === undefined || first.startsWith("-")
      ? first === "-h" || first === "--help"
        ? "help"
        : "up"
      : oneOf(first, LAB_COMMANDS, "command", "", "unknown");
  const rest =
    first === undefined || first.startsWith("-") ? argv.slice(command === "help" ? 1 : 0) : argv.slice(1);
  const where = `${command}: `;
  const line = parseCommandLine(rest, SPECS[command].flags, where);
  const [a, b] = line.positionals;
  if (command === "help") {
    noMore(line.positionals, 1, where);
    return a === undefined
      ? { command }
      : { command, topic: oneOf(a, LAB_COMMANDS, "command", where, "unknown") };
  }
  if (line.help) return { command: "help", topic: command };
  switch (command) {
    case "up":
      noMore(line.positionals, 0, where);
      return { command, monitoring: line.values["no-monitoring"] !== true };
    case "down":
      noMore(line.positionals, 0, where);
      return { command };
    case "status":
    case "alerts":
      noMore(line.positionals, 0, where);
      return { command, json: line.values.json === true };
    case "switch": {
      const color = oneOf(a, COLORS, "<color>");
      noMore(line.positionals, 1, where);
      const drain = line.values.drain as string | undefined;
      const drainSeconds = drain === undefined ? undefined : parseDrainSeconds(drain);
      if (drain !== undefined && drainSeconds === undefined) {
        throw new UsageError(`invalid --drain "${drain}": ${DRAIN_RULE}`);
      }
      return {
        command,
        color,
        ...(drainSeconds === undefined ? {} : { drainSeconds }),
        force: line.values.force === true,
        promote: line.values["no-promote"] !== true,
      };
    }
    case "deploy": {
      const color = oneOf(a, COLORS, "<color>");
      if (b === undefined) {
        throw new UsageError("missing <release>: e.g. placeholder, or a git ref of appRepository");
      }
      if (!isReleaseRef(b)) {
        throw new UsageError(`invalid <release> "${b}": letters, digits, '.', '_', '-' or '/' (no '..')`);
      }
      noMore(line.positionals, 2, where);
      return { command, color, release: b };
    }
    case "kill":
    case "start": {
      const node = oneOf(a, NODE_NAMES, "<node>");
      noMore(line.positionals, 2, where);
      return b === undefined ? { command, node } : { command, node, service: b };
    }
    case "freeze":
    case "thaw":
    case "partition":
    case "heal":
      noMore(line.positionals, 1, where);
      return { command, node: oneOf(a, NODE_NAMES, "<node>") };
    case "bench": {
      noMore(line.positionals, 0, where);
      const only = parseOnly(line.values.only as string | undefined);
      return {
        command,
        json: line.values.json === true,
        repeat: parseRepeat(line.values.repeat as string | undefined),
        ...(only === undefined ? {} : { only }),
      };
    }
  }
}
