/**
 * The blue-green steps as plans (pure): which stack-file edit each step makes, and the branch,
 * commit and pull request that carry it, so every step is a reviewed change whose PR shows its
 * `pulumi preview`. The operator never chooses a color: the standby comes from the stack.
 *
 *   status          active/standby colors, releases, rebuild counters
 *   release <ref>   releases.<standby> = ref       (deploy to the standby; preview: its command updates)
 *   switch          activeColor = <standby>         (traffic; preview: the switch command updates)
 *   promote         messageMasterFollowsActive = true (the switch command re-runs: the script is a
 *                   no-op for the active color, then Sentinel moves the message master to it)
 *   rebuild         rebuild.<standby> + 1           (replaces the standby engine from current cloud-init)
 */
import { Color, otherColor, releaseRefProblem } from "../rules";
import { ConfigEdit, PipelineSettings, formatPath } from "./stack-file";

import { UsageError, describeFlags, noMore, oneOf, parseCommandLine } from "./args";

export { UsageError };

export const COMMANDS = ["status", "release", "switch", "promote", "rebuild", "help"] as const;
export type Command = (typeof COMMANDS)[number];

const FLAGS = {
  file: { type: "string", value: "PATH" },
  "no-git": { type: "boolean" },
  "dry-run": { type: "boolean" },
} as const;

/** Each command's synopsis and what it does (the usage text and `help <command>`). */
const HELP: Readonly<Record<Command, readonly [string, string]>> = {
  status: ["status", "show the active and standby colors, their releases and rebuild counters"],
  release: ["release <ref>", "deploy <ref> to the standby (sets releases.<standby>)"],
  switch: ["switch", "send live traffic to the standby (sets activeColor)"],
  promote: [
    "promote",
    "move the message Valkey master to the active color (sets messageMasterFollowsActive: true)",
  ],
  rebuild: ["rebuild", "rebuild the standby engine from the current cloud-init (bumps rebuild.<standby>)"],
  help: ["help [command]", "this text, or one command's"],
};

const OPTIONS = `options: --file PATH  the stack file (default Pulumi.prod.yaml); --no-git  edit the file only;
         --dry-run  print the plan and change nothing; -h, --help  this text`;

export const USAGE = [
  "usage: npm run bg -- <command> [--file PATH] [--no-git] [--dry-run]",
  ...COMMANDS.map((c) => `  ${HELP[c][0].padEnd(16)}${HELP[c][1]}`),
  OPTIONS,
].join("\n");

/** The usage of one command (`npm run bg -- help <command>`, `<command> --help`). */
export function commandUsage(command: Command): string {
  const [synopsis, text] = HELP[command];
  const flags = command === "help" ? "" : " [--file PATH] [--no-git] [--dry-run]";
  return `usage: npm run bg -- ${synopsis}${flags}\n  ${text}\n${OPTIONS}`;
}

export interface Invocation {
  readonly command: Command;
  /** With `help`: the command asked about, if any. */
  readonly topic?: Command;
  readonly ref?: string;
  readonly file: string;
  readonly git: boolean;
  readonly dryRun: boolean;
}

export function parseArgs(argv: readonly string[]): Invocation {
  const line = parseCommandLine(argv, FLAGS);
  const file = (line.values.file as string | undefined) ?? "Pulumi.prod.yaml";
  const git = line.values["no-git"] !== true;
  const dryRun = line.values["dry-run"] === true;
  const [name, ...rest] = line.positionals;
  if (name === undefined) {
    if (line.help) return { command: "help", file, git, dryRun };
    throw new UsageError(`missing the command: expected one of ${COMMANDS.join(", ")}`);
  }
  const command = oneOf(name, COMMANDS, "command", "", "unknown");
  if (command === "help" || line.help) {
    const topic = command === "help" ? rest[0] : command;
    if (command === "help") noMore(rest, 1, "help: ");
    return {
      command: "help",
      ...(topic === undefined ? {} : { topic: oneOf(topic, COMMANDS, "command", "help: ", "unknown") }),
      file,
      git,
      dryRun,
    };
  }
  if (command === "release") {
    const ref = rest[0];
    if (ref === undefined)
      throw new UsageError(
        "release: missing <ref> (a tag, branch or commit of appRepository, or placeholder)",
      );
    const problem = releaseRefProblem(ref);
    if (problem) throw new UsageError(`release: ${problem}`);
    noMore(rest, 1, "release: ");
    return { command, ref, file, git, dryRun };
  }
  noMore(rest, 0, `${command}: `);
  return { command, file, git, dryRun };
}

/** The flags bg takes, as messages list them. */
export const ALLOWED_FLAGS = describeFlags(FLAGS);

export interface Plan {
  /** One line saying what the step does, for the terminal and the commit subject. */
  readonly summary: string;
  readonly edits: readonly ConfigEdit[];
  /** Why nothing is to be done (the plan has no edits then). */
  readonly nothingToDo?: string;
  readonly branch: string;
  readonly prTitle: string;
  readonly prBody: string;
}

/** A git branch name from free text. */
function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
}

function body(summary: string, edits: readonly ConfigEdit[], preview: string, after: string): string {
  const lines = edits.map((e) => `- \`${formatPath(e.path)}\`: \`${String(e.value)}\``);
  return [
    summary,
    "",
    "Stack file change (made by `npm run bg`):",
    ...lines,
    "",
    `Expected preview: ${preview}`,
    "",
    `After merge: ${after}`,
    "",
    "Runbook: docs/runbooks/deploy.md",
  ].join("\n");
}

/**
 * The plan of a step. `active` is the live color (from the stack when it can be read, else from
 * the stack file); the caller has checked that both agree.
 */
export function plan(
  invocation: Invocation,
  settings: PipelineSettings,
  active: Color = settings.activeColor,
): Plan {
  const standby = otherColor(active);
  switch (invocation.command) {
    case "release": {
      const ref = invocation.ref as string;
      const summary = `Deploy ${ref} to the standby ${standby} (was ${settings.releases[standby]})`;
      const edits: ConfigEdit[] = [{ path: ["releases", standby], value: ref }];
      return {
        summary,
        edits: settings.releases[standby] === ref ? [] : edits,
        nothingToDo:
          settings.releases[standby] === ref
            ? `the standby ${standby} already has release ${ref}`
            : undefined,
        branch: `bg/release-${standby}-${slug(ref)}`,
        prTitle: `bg: ${summary}`,
        prBody: body(
          summary,
          edits,
          `~ update command:remote:Command yq-${standby}-deploy (create/update), nothing else.`,
          `the deploy workflow runs deploy.sh ${ref} on yq-${standby} and smoke-tests it through the gate's staging port 8080. Then: npm run bg -- switch.`,
        ),
      };
    }
    case "switch": {
      const summary = `Switch live traffic from ${active} to ${standby}`;
      const edits: ConfigEdit[] = [{ path: ["activeColor"], value: standby }];
      const promote = settings.messageMasterFollowsActive
        ? `, then Sentinel moves the message Valkey master to ${standby}`
        : `; the message Valkey master stays (messageMasterFollowsActive is off: npm run bg -- promote)`;
      return {
        summary,
        edits,
        branch: `bg/switch-to-${standby}`,
        prTitle: `bg: ${summary}`,
        prBody: body(
          summary,
          edits,
          "~ update command:remote:Command yq-switch-active (create/update), nothing else.",
          `the gate's switch-active.sh refuses ${standby} unless its /health passes; otherwise new sessions go to ${standby} at once and cookie-pinned ones after the drain window${promote}.`,
        ),
      };
    }
    case "promote": {
      const summary = `Move the message Valkey master to the active color ${active}`;
      const edits: ConfigEdit[] = [{ path: ["messageMasterFollowsActive"], value: true }];
      return {
        summary,
        edits: settings.messageMasterFollowsActive ? [] : edits,
        nothingToDo: settings.messageMasterFollowsActive
          ? "messageMasterFollowsActive is already on: every switch moves the master. If the master is elsewhere now, see docs/runbooks/valkey-failure.md"
          : undefined,
        branch: `bg/promote-${active}`,
        prTitle: `bg: ${summary}`,
        prBody: body(
          summary,
          edits,
          "~ update command:remote:Command yq-switch-active (create/update), nothing else.",
          `the switch command re-runs: switch-active.sh is a no-op for ${active}, then SENTINEL FAILOVER moves the master to ${active} if it is not there. From then on every switch moves the master too.`,
        ),
      };
    }
    case "rebuild": {
      const next = settings.rebuild[standby] + 1;
      const summary = `Rebuild the standby engine ${standby} from the current cloud-init`;
      const edits: ConfigEdit[] = [{ path: ["rebuild", standby], value: next }];
      return {
        summary,
        edits,
        branch: `bg/rebuild-${standby}-${next}`,
        prTitle: `bg: ${summary}`,
        prBody: body(
          summary,
          edits,
          `+- replace oci:Core/instance:Instance yq-${standby}-instance (delete before replace) and +- replace command:remote:Command yq-${standby}-deploy; nothing else.`,
          `yq-${standby} is deleted and created again from today's cloud-init, then gets release ${settings.releases[standby]} again. Live traffic stays on ${active}.`,
        ),
      };
    }
    default:
      throw new UsageError(`${invocation.command}: changes nothing`);
  }
}

/** The status text. `live` is the stack's recorded live color when known. */
export function formatStatus(file: string, settings: PipelineSettings, live?: Color): string {
  const active = live ?? settings.activeColor;
  const standby = otherColor(active);
  const source = live ? "stack output liveColor" : `${file} (no stack output available)`;
  const lines = [
    `active:  ${active.padEnd(5)}  release ${settings.releases[active]}   (from ${source})`,
    `standby: ${standby.padEnd(5)}  release ${settings.releases[standby]}`,
    `rebuild counters: blue ${settings.rebuild.blue}, green ${settings.rebuild.green}`,
    `messageMasterFollowsActive: ${settings.messageMasterFollowsActive}`,
  ];
  if (live && live !== settings.activeColor) {
    lines.push(
      `WARNING: ${file} says activeColor ${settings.activeColor}, the stack is live on ${live}: a change is not deployed yet.`,
    );
  }
  lines.push(`next: npm run bg -- release <ref>   (deploys to ${standby}), then npm run bg -- switch`);
  return lines.join("\n");
}
