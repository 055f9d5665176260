/**
 * The shell commands the pipeline's remote commands run, as pure functions of plain values (no
 * Output goes into a template). They are what `pulumi preview --diff` shows in the `create` and
 * `update` of the switch and release commands, so they are kept short and readable. No secret is
 * ever part of a command: the scripts read them on the node.
 */

import { Color, isColor } from "../cloud-init/layout";
import { DRAIN_RULE, isDrainSeconds, releaseRefProblem } from "../rules";
import { COMMAND_DELIVERED_SCRIPTS, deliveredScript } from "../cloud-init/node-files";

export { COLORS, isColor, otherColor } from "../cloud-init/layout";
export { RELEASE_REF_PATTERN, releaseRefProblem } from "../rules";
export type { Color } from "../cloud-init/layout";

export const BIN = "/opt/yquant/bin";

/**
 * Waits for cloud-init to finish on the node the command runs on. `cloud-init status --wait` exits 0
 * when done, 2 when done with recoverable errors (deprecation warnings: the node is up), 1 on a
 * fatal error, which fails the command with the status text.
 */
export function waitForCloudInit(node: string): string {
  return [
    "rc=0",
    "cloud-init status --wait >/dev/null 2>&1 || rc=$?",
    `if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then echo "${node}: cloud-init did not finish (status $rc): $(cloud-init status --long 2>&1 | tr '\\n' ' ')" >&2; exit 1; fi`,
  ].join("\n");
}

export interface SwitchCommandArgs {
  /** The color live traffic goes to. */
  readonly color: Color;
  /** Seconds during which cookies naming the old color are still honoured (rules.ts DRAIN_SECONDS). */
  readonly drainSeconds: number;
  /** Also move the message Valkey master to `color` (promote-master.sh), after the traffic switch. */
  readonly messageMasterFollowsActive: boolean;
}

/**
 * The steps of a switch, in order, each a script of ${BIN} with its arguments, run on the gate. The
 * cloud's switch command and the lab's `switch` run exactly these: switch-active.sh, then, with
 * messageMasterFollowsActive, promote-master.sh (the lossless move of the message master; an operator
 * runs the same script by hand). No secret is an argument: the scripts read them on the node.
 */
export function switchSteps(args: SwitchCommandArgs): string[][] {
  if (!isColor(args.color)) throw new Error(`switchCommand: unknown color ${JSON.stringify(args.color)}`);
  if (!isDrainSeconds(args.drainSeconds)) {
    throw new Error(`switchCommand: drainSeconds ${args.drainSeconds} is not ${DRAIN_RULE}`);
  }
  const steps = [["switch-active.sh", args.color, "--drain", String(args.drainSeconds)]];
  if (args.messageMasterFollowsActive) steps.push(["promote-master.sh", args.color]);
  return steps;
}

/**
 * Installs a script that is not in the user data (COMMAND_DELIVERED_SCRIPTS: promote-master.sh) on
 * the gate, atomically, from a quoted here-document, so that it is there for the next step and for
 * an operator afterwards.
 */
export function installScriptCommand(name: (typeof COMMAND_DELIVERED_SCRIPTS)[number]): string {
  const text = deliveredScript(name);
  if (text.includes("YQ_SCRIPT")) throw new Error(`installScriptCommand: ${name}.sh contains the delimiter`);
  const target = `${BIN}/${name}.sh`;
  return [
    `sudo tee ${target}.new >/dev/null <<'YQ_SCRIPT'`,
    text.replace(/\n$/, ""),
    "YQ_SCRIPT",
    `sudo chmod 0755 ${target}.new`,
    `sudo mv -f ${target}.new ${target}`,
  ].join("\n");
}

/** The switch command run on the gate as `ubuntu`: wait for cloud-init, then each switch step as root. */
export function switchCommand(args: SwitchCommandArgs): string {
  const lines = ["set -eu", waitForCloudInit("yq-gate")];
  for (const [script = "", ...rest] of switchSteps(args)) {
    const name = script.replace(/\.sh$/, "");
    const delivered = COMMAND_DELIVERED_SCRIPTS.find((d) => d === name);
    if (delivered) lines.push(installScriptCommand(delivered));
    lines.push(`sudo ${BIN}/${script} ${rest.join(" ")}`);
  }
  return lines.join("\n");
}

/** The release command run on an engine (through the gate): wait for cloud-init, then deploy. */
export function releaseCommand(node: string, ref: string): string {
  const problem = releaseRefProblem(ref);
  if (problem) throw new Error(`releaseCommand: ${problem}`);
  return ["set -eu", waitForCloudInit(node), `sudo ${BIN}/deploy.sh ${ref}`].join("\n");
}
