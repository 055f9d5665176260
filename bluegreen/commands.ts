/**
 * The shell commands the pipeline's remote commands run, as pure functions of plain values (no
 * Output goes into a template). They are what `pulumi preview --diff` shows in the `create` and
 * `update` of the switch and release commands, so they are kept short and readable. No secret is
 * ever part of a command: the Sentinel password is read on the node from /etc/yquant/valkey.env.
 */

import { Color, isColor } from "../cloud-init/layout";

export { COLORS, isColor, otherColor } from "../cloud-init/layout";
export type { Color } from "../cloud-init/layout";

export const BIN = "/opt/yquant/bin";

/** Same pattern as config.ts's RELEASE_PATTERN and deploy.sh's check (no "..", no shell metacharacters). */
export const RELEASE_REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$/;

/** Why `ref` is not a release ref, or undefined when it is one. */
export function releaseRefProblem(ref: string): string | undefined {
  if (!RELEASE_REF_PATTERN.test(ref) || ref.includes("..")) {
    return `"${ref}" is not a release ref: use 1 to 100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, without ".."`;
  }
  return undefined;
}

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
  /** Seconds during which cookies naming the old color are still honoured (0 to 3600). */
  readonly drainSeconds: number;
  /** Also move the message Valkey master to `color` through Sentinel, after the traffic switch. */
  readonly messageMasterFollowsActive: boolean;
  /** Private address of the target color's engine (the master Sentinel should report afterwards). */
  readonly targetIp: string;
  /** Sentinel master name. Default mymaster. */
  readonly masterName?: string;
  /** Seconds to wait for Sentinel to report the new master. Default 60 (the failover-timeout). */
  readonly failoverWaitSeconds?: number;
}

/**
 * The script that moves the Sentinel master to `targetIp` unless it is there already, run on the gate
 * as root (it reads /etc/yquant/valkey.env, root:yquant 0640). The password goes to valkey-cli
 * through REDISCLI_AUTH, so it is on no command line. A bounded wait (2 s per try); exit 1 with a
 * message when the master did not move. `root` prefixes the env files (tests; "" on a VM).
 */
export function promoteMasterBody(
  targetIp: string,
  masterName = "mymaster",
  waitSeconds = 60,
  root = "",
): string {
  const tries = Math.max(1, Math.ceil(waitSeconds / 2));
  return `set -eu
. ${root}/etc/yquant/node.env
. ${root}/etc/yquant/valkey.env
target=${targetIp}
sentinel() { REDISCLI_AUTH="$SENTINEL_PASSWORD" valkey-cli --no-auth-warning -h "\${NODE_LOOPBACK:-127.0.0.1}" -p "\${SENTINEL_PORT:-26379}" "$@"; }
master() { sentinel SENTINEL GET-MASTER-ADDR-BY-NAME ${masterName} | head -n 1; }
if [ "$(master)" = "$target" ]; then echo "promote: the message master is already $target"; exit 0; fi
echo "promote: message master is $(master); SENTINEL FAILOVER ${masterName} to $target"
sentinel SENTINEL FAILOVER ${masterName}
for _ in $(seq 1 ${tries}); do
  if [ "$(master)" = "$target" ]; then echo "promote: the message master is now $target"; exit 0; fi
  sleep 2
done
echo "promote: Sentinel still reports $(master) as master after ${waitSeconds}s; traffic was switched, the message master was not moved (see docs/runbooks/valkey-failure.md)" >&2
exit 1`;
}

/** promoteMasterBody as root on the gate: `sudo bash -s` with the body as a quoted here-document. */
export function promoteMasterScript(targetIp: string, masterName = "mymaster", waitSeconds = 60): string {
  return `sudo bash -s <<'YQ_PROMOTE'\n${promoteMasterBody(targetIp, masterName, waitSeconds)}\nYQ_PROMOTE`;
}

/** The switch command run on the gate as `ubuntu`: wait for cloud-init, switch, then optionally promote. */
export function switchCommand(args: SwitchCommandArgs): string {
  if (!isColor(args.color)) throw new Error(`switchCommand: unknown color ${JSON.stringify(args.color)}`);
  if (!Number.isInteger(args.drainSeconds) || args.drainSeconds < 0 || args.drainSeconds > 3600) {
    throw new Error(`switchCommand: drainSeconds ${args.drainSeconds} is not an integer from 0 to 3600`);
  }
  const lines = [
    "set -eu",
    waitForCloudInit("yq-gate"),
    `sudo ${BIN}/switch-active.sh ${args.color} --drain ${args.drainSeconds}`,
  ];
  if (args.messageMasterFollowsActive) {
    lines.push(promoteMasterScript(args.targetIp, args.masterName, args.failoverWaitSeconds));
  }
  return lines.join("\n");
}

/** The release command run on an engine (through the gate): wait for cloud-init, then deploy. */
export function releaseCommand(node: string, ref: string): string {
  const problem = releaseRefProblem(ref);
  if (problem) throw new Error(`releaseCommand: ${problem}`);
  return ["set -eu", waitForCloudInit(node), `sudo ${BIN}/deploy.sh ${ref}`].join("\n");
}
