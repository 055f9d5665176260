/**
 * Scenario 6, quorum without the gate: with the gate's Sentinel stopped, killing the message master
 * still fails it over, since the engines' two Sentinels are 2 of 3, a majority and the quorum.
 */
import { waitFor } from "../poll";
import {
  Figures,
  ScenarioContext,
  agreedMaster,
  agreedMasterColor,
  baseline,
  ensureMaster,
  figure,
} from "./common";
import { killMasterAndMeasure, rejoin } from "./s5-valkey-failover";

export async function quorumWithoutGate(ctx: ScenarioContext): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const figures = new Figures();
  const oldMaster = await agreedMasterColor(lab);
  log("scenario 6: stopping the gate's Sentinel");
  await lab.stop("gate", "valkey-sentinel");
  figures.add(figure("sentinelsRunning", "Sentinels running", 2, "of 3", ">= quorum 2", true));
  try {
    const m = await killMasterAndMeasure(ctx, { ackedWrites: 100 }, figures);
    // The leader's view changes first; the other engine's Sentinel learns it from hello messages.
    const engines =
      (await waitFor(async () => {
        const view = await agreedMaster(lab, ["blue", "green"]);
        return view !== null && view !== oldMaster ? view : undefined;
      }, 15_000)) ?? null;
    figures.add(
      figure(
        "enginesAgree",
        "engine Sentinels agree on the new master",
        engines,
        "",
        m.newMaster ?? "the new master",
        engines !== null && engines === m.newMaster,
      ),
    );
  } finally {
    log("scenario 6: starting the gate's Sentinel again");
    await lab.start("gate", "valkey-sentinel");
  }
  await rejoin(ctx, oldMaster, figures);
  await ensureMaster(lab, oldMaster, log);
  await baseline(lab, log);
  return figures;
}
