/**
 * Scenario 19, slow promotion: promote-master.sh green with the shortest pause (--pause-timeout 10000)
 * while the gate's Sentinel, which leads the failover, is frozen (SIGSTOP) for 9 s as soon as it has
 * accepted SENTINEL FAILOVER. The promotion then outlasts what the script used to wait (the pause
 * less 2 s, counted from the pause: it gave up, and unpaused a master Sentinel was about to demote;
 * under TCG on the VMs a failover took 16 to 51 s). Now the script waits as long as Sentinel pursues
 * the failover and renews the pause meanwhile: it must exit 0, with no acknowledged write lost by any
 * of the four writers, the old master a replica and nothing left paused.
 */
import { Lab } from "../lab";
import { sleep } from "../poll";
import { respCommand } from "../resp";
import {
  Figures,
  ScenarioContext,
  agreedMaster,
  baseline,
  figure,
  sentinelAdminTarget,
  valkeyRole,
} from "./common";
import { leftPausedFigure, writePauseFigure } from "./s10-planned-master-move";
import { addLossFigures, writersFromBaseline } from "./writers";

/** The short pause the run asks for, ms: without the renewal it would end during the freeze. */
export const SLOW_PAUSE_TIMEOUT_MS = 10_000;
/** How long the gate's Sentinel stays frozen once the failover has started, ms. */
export const SENTINEL_FREEZE_MS = 9000;

/** True once the gate's Sentinel flags the master `failover_in_progress`; false after `timeoutMs`. */
async function failoverStarted(lab: Lab, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const reply = await respCommand(
        sentinelAdminTarget(lab, "gate", 300),
        "SENTINEL",
        "MASTER",
        lab.layout.sentinel.masterName,
      );
      if (Array.isArray(reply)) {
        const flags = reply[reply.indexOf("flags") + 1];
        if (String(flags).includes("failover_in_progress")) return true;
      }
    } catch {
      // not answering yet: poll again
    }
    await sleep(5);
  }
  return false;
}

export async function slowPromotion(ctx: ScenarioContext): Promise<Figures> {
  const { lab, log } = ctx;
  const figures = new Figures();
  const { tag, writers } = await writersFromBaseline(ctx, "s19", 1000);
  log(
    `scenario: promote-master.sh green --pause-timeout ${SLOW_PAUSE_TIMEOUT_MS}, the gate's Sentinel frozen`,
  );
  const run = lab.runScript("gate", "promote-master", [
    "green",
    "--pause-timeout",
    String(SLOW_PAUSE_TIMEOUT_MS),
  ]);
  const started = await failoverStarted(lab, 10_000);
  let frozenFor = 0;
  if (started && lab.signal("gate", "valkey-sentinel", "SIGSTOP")) {
    const frozenAt = performance.now();
    await sleep(SENTINEL_FREEZE_MS);
    lab.signal("gate", "valkey-sentinel", "SIGCONT");
    frozenFor = Math.round(performance.now() - frozenAt);
  }
  const promote = await run;
  const roleAfter = await valkeyRole(lab, "blue");
  await sleep(1500);
  const results = await Promise.all(writers.map((w) => w.stop()));
  log(
    `scenario: promote-master.sh exit ${promote.status}: ${(promote.stdout + promote.stderr).trim().split("\n").at(-1)}`,
  );

  figures.add(
    figure(
      "sentinelFrozenMs",
      "the gate's Sentinel frozen after it took the failover",
      frozenFor,
      "ms",
      `>= ${SENTINEL_FREEZE_MS}`,
      frozenFor >= SENTINEL_FREEZE_MS,
    ),
  );
  figures.add(
    figure("promoteExit", "exit code of promote-master.sh", promote.status, "", "0", promote.status === 0),
  );
  const oldDeadline = SLOW_PAUSE_TIMEOUT_MS - 2000;
  figures.add(
    writePauseFigure(promote.stdout, `> ${oldDeadline} (the old deadline)`, (pause) => pause > oldDeadline),
  );
  figures.add(
    figure(
      "oldMasterRoleAfter",
      "blue's ROLE when promote-master.sh returned",
      roleAfter,
      "",
      "slave",
      roleAfter === "slave",
    ),
  );
  const master = await agreedMaster(lab);
  figures.add(
    figure("newMaster", "message master after the promotion", master, "", "green", master === "green"),
  );
  await addLossFigures(figures, lab, "green", tag, results, log);
  figures.add(await leftPausedFigure(lab));
  await baseline(lab, log);
  return figures;
}
