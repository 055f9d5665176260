/**
 * Scenario 10, planned move of the message master: the lab's switch to green (the cloud's switch
 * steps: switch-active.sh, then promote-master.sh) under write load from the four kinds of writer
 * (lab/scenarios/writers.ts), the pinned ones on blue, the old master. Every acknowledged write must
 * be on the new master; the old master must be a replica as soon as the script returns, and nothing
 * may stay paused. Figures: the write pause the script reports and the longest gap a Sentinel-aware
 * writer saw.
 */
import { switchSteps } from "../../bluegreen/commands";
import * as fs from "node:fs";
import * as path from "node:path";
import { Color, NodeName, nodeNames } from "../../cloud-init/layout";
import { Lab, ScriptName } from "../lab";
import { sleep, waitFor } from "../poll";
import { respCommand } from "../resp";
import {
  Figure,
  Figures,
  ScenarioContext,
  agreedMaster,
  baseline,
  figure,
  valkeyRole,
  valkeyTarget,
} from "./common";
import { addLossFigures, longestGap, writersFromBaseline } from "./writers";

/** The write pause promote-master.sh reports, in ms, or null. */
export function reportedPauseMs(stdout: string): number | null {
  const m = /writes were paused for (\d+) ms/.exec(stdout);
  return m ? Number(m[1]) : null;
}

/** The write pause promote-master.sh reported (`stdout`), against a goal `met` decides. */
export function writePauseFigure(
  stdout: string | undefined,
  goal: string,
  met: (pauseMs: number) => boolean,
): Figure {
  const pause = stdout === undefined ? null : reportedPauseMs(stdout);
  const label = "write pause reported by promote-master.sh";
  return figure("writePauseMs", label, pause, "ms", goal, pause !== null && met(pause));
}

/**
 * True when `node`'s Valkey holds writes back (CLIENT PAUSE WRITE): PUBLISH, which a pause holds even
 * on a replica, does not answer within 300 ms.
 */
export async function isPaused(lab: Lab, node: NodeName): Promise<boolean> {
  try {
    await respCommand(valkeyTarget(lab, node, 300), "PUBLISH", "yquant-pause-probe", "1");
    return false;
  } catch (err) {
    return /timeout|no answer/i.test((err as Error).message);
  }
}

/** The figure `leftPaused`: whether an engine still holds writes back (goal false). */
export async function leftPausedFigure(lab: Lab): Promise<Figure> {
  const paused = (await isPaused(lab, "blue")) || (await isPaused(lab, "green"));
  return figure("leftPaused", "an engine still holds writes back afterwards", paused, "", "false", !paused);
}

/** Octal modes of each node's Valkey and Sentinel files (which hold passwords), by `<node>/<file>`. */
export function configModes(lab: Lab): Record<string, string> {
  const out: Record<string, string> = {};
  for (const node of nodeNames(lab.layout)) {
    for (const file of ["valkey.conf", "sentinel.conf"]) {
      const p = path.join(lab.root(node), "etc/valkey", file);
      if (fs.existsSync(p)) out[`${node}/${file}`] = (fs.statSync(p).mode & 0o777).toString(8);
    }
  }
  return out;
}

/** Runs the cloud's switch steps on the lab's gate; resolves with each step's status and output. */
export async function labSwitch(
  lab: Lab,
  color: Color,
  drainSeconds = 0,
  follows = true,
): Promise<{ status: number; stdout: string; stderr: string; startedAt: number; endedAt: number }[]> {
  const out = [];
  lab.installDeliveredScripts();
  for (const [script, ...args] of switchSteps({ color, drainSeconds, messageMasterFollowsActive: follows })) {
    const r = await lab.runScript("gate", script.replace(/\.sh$/, "") as ScriptName, args, 120_000);
    out.push(r);
    if (r.status !== 0) break;
  }
  return out;
}

export async function plannedMasterMove(ctx: ScenarioContext): Promise<Figures> {
  const { lab, log } = ctx;
  const figures = new Figures();
  const { tag, writers } = await writersFromBaseline(ctx, "s10", 1500);
  log("scenario: switch to green with the promotion, under four writers");
  const steps = await labSwitch(lab, "green");
  const promote = steps[1];
  const roleRightAfter = await valkeyRole(lab, "blue");
  await sleep(2000);
  const results = await Promise.all(writers.map((w) => w.stop()));
  figures.add(
    figure(
      "switchExitCodes",
      "exit codes of switch-active.sh, promote-master.sh",
      steps.map((s) => s.status).join(","),
      "",
      "0,0",
      steps.map((s) => s.status).join(",") === "0,0",
    ),
  );
  figures.add(writePauseFigure(promote?.stdout, "<= 2000", (pause) => pause <= 2000));
  const sentinel = results[0];
  const gap =
    sentinel && promote ? longestGap(sentinel.ackTimes, promote.startedAt, promote.endedAt + 1000) : null;
  figures.add(
    figure(
      "sentinelGapMs",
      "longest gap between acknowledged writes of the Sentinel-aware writer",
      gap,
      "ms",
      "report",
    ),
  );
  figures.add(
    figure(
      "oldMasterRoleAfter",
      "blue's ROLE when promote-master.sh returned",
      roleRightAfter,
      "",
      "slave",
      roleRightAfter === "slave",
    ),
  );
  figures.add(
    figure(
      "newMaster",
      "message master after the switch",
      await agreedMaster(lab),
      "",
      "green",
      (await agreedMaster(lab)) === "green",
    ),
  );
  const synced = await waitFor(async () => {
    const info = String(await respCommand(valkeyTarget(lab, "blue"), "INFO", "replication"));
    return info.includes("master_link_status:up") ? true : undefined;
  }, 30_000);
  figures.add(
    figure("oldMasterSynced", "blue replicates from green", synced === true, "", "true", synced === true),
  );
  await addLossFigures(figures, lab, "green", tag, results, log);
  const modes = configModes(lab);
  const modesOk = Object.values(modes).every((m) => m === "640" || m === "600");
  figures.add(
    figure(
      "configModes",
      "modes of every valkey.conf and sentinel.conf after the rewrites",
      Object.entries(modes)
        .map(([f, m]) => `${f} ${m}`)
        .join(", "),
      "",
      "all 0640 or 0600",
      modesOk,
    ),
  );
  figures.add(await leftPausedFigure(lab));
  await baseline(lab, log);
  return figures;
}
