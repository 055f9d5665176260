/**
 * Scenario 3, guarded switch: with green's app stopped, `switch-active.sh green` is refused (non-zero
 * exit, a clear message) while live traffic keeps flowing to blue without a single failure.
 */
import { httpService } from "../services";
import { runLoad, summarise } from "../load";
import { Figures, ScenarioContext, baseline, figure } from "./common";

export async function guardedSwitch(ctx: ScenarioContext): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const unit = `yquant-${httpService(lab.layout)}`;
  log(`scenario 3: stopping green/${unit}, then switching to green`);
  await lab.stop("green", unit);
  let switchDone = false;
  const load = runLoad({
    baseUrl: lab.liveUrl(""),
    concurrency: 8,
    total: 500,
    maxMs: 60_000,
    keepGoing: () => !switchDone,
  });
  let result;
  try {
    await new Promise((r) => setTimeout(r, 300));
    result = await lab.runScript("gate", "switch-active", ["green"], 60_000);
  } finally {
    switchDone = true;
  }
  const loadResult = await load;
  const sum = summarise(loadResult.records);
  const message =
    result.stderr
      .trim()
      .split("\n")
      .find((l) => l.length > 0) ?? "";
  log(`scenario 3: switch exited ${result.status}: ${message}`);
  const figures = new Figures();
  figures.add(
    figure("switchExit", "switch-active.sh exit code", result.status, "", "non-zero", result.status !== 0),
  );
  figures.add(
    figure(
      "message",
      "message",
      message,
      "",
      "names the target and the failed check",
      /refus/i.test(message) && message.includes("green"),
    ),
  );
  figures.add(figure("liveRequests", "live requests during the attempt", sum.total, "requests"));
  figures.add(figure("liveFailed", "live requests failed", sum.failed, "requests", "0", sum.failed === 0));
  figures.add(
    figure(
      "liveOnBlue",
      "live requests served by blue",
      sum.byColor.blue,
      "requests",
      "all",
      sum.byColor.blue === sum.total,
    ),
  );
  const active = await lab.activeColor();
  figures.add(
    figure("activeAfter", "active color after the refused switch", active, "", "blue", active === "blue"),
  );
  await baseline(lab, log);
  return figures;
}
