/**
 * Scenario 15, gate rebuild under live load (the lab's `rebuild.gate`): every gate process is
 * SIGKILLed and every gate file removed but the token volume's directory (cloud-init/token-volume.ts),
 * then the gate is materialised again from its own user data, its setup.sh runs, and the live color
 * is switched back in (the cloud's switch command re-runs on a new gate instance). 16 clients keep
 * the live port busy throughout. Then: 0 tokens lost (the token Valkey's AOF is on the volume), the
 * gate's Sentinel agrees on the message master again, and the outage is the longest gap between two
 * successful live responses.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { TOKEN_VOLUME } from "../../cloud-init/token-volume";
import { sleep, waitFor } from "../poll";
import { signalPids } from "../processes";
import { RequestRecord, isOk, runLoad, summarise } from "../load";
import { materialiseNode } from "../materialise";
import { sentinelMaster } from "../probes";
import { Figures, ScenarioContext, baseline, figure } from "./common";
import { countTokens, tokenClient, tokenFigures, tokenKeys, writeTokens } from "./tokens";

/** The longest gap (ms) between the ends of two successive successful responses after `from`. */
export function longestGap(records: readonly RequestRecord[], from: number): number {
  const ends = records
    .filter(isOk)
    .map((r) => r.end)
    .sort((a, b) => a - b);
  let gap = 0;
  let last = ends.filter((e) => e <= from).pop() ?? from;
  for (const end of ends.filter((e) => e > from)) {
    gap = Math.max(gap, end - last);
    last = end;
  }
  return Math.round(gap);
}

/** Removes everything under `root` but `keep` (a path below it) and the directories leading to it. */
export function wipeAllBut(root: string, keep: string): void {
  const rel = path.relative(root, keep).split(path.sep);
  let dir = root;
  for (const part of rel) {
    for (const entry of fs.readdirSync(dir)) {
      if (entry !== part) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
    dir = path.join(dir, part);
  }
}

export async function gateRebuild(ctx: ScenarioContext, tokens = 1000): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const figures = new Figures();
  const keys = tokenKeys(`s15-${Date.now().toString(36)}`, tokens);
  const writer = tokenClient(lab);
  await writer.connect();
  const acknowledged = await writeTokens(writer, keys);
  writer.disconnect();
  // appendfsync everysec: the last second of writes reaches the AOF within a second.
  await sleep(1500);
  const masterBefore = await sentinelMaster(lab, "blue");
  const volumeDir = path.join(lab.root("gate"), TOKEN_VOLUME.mount.replace(/^\//, ""));

  log(`scenario 15: ${acknowledged} tokens written; wiping the gate (all but ${volumeDir}) under load`);
  let rebuilding = true;
  const load = runLoad({
    baseUrl: lab.liveUrl(""),
    concurrency: 16,
    total: 2000,
    maxMs: 240_000,
    keepGoing: () => rebuilding,
  });
  let wipedAt = 0;
  let setupStatus = -1;
  let switchStatus = -1;
  try {
    await sleep(500);
    wipedAt = performance.now();
    signalPids(lab.nodePids("gate"), "SIGKILL");
    await sleep(200);
    wipeAllBut(lab.root("gate"), volumeDir);
    const result = materialiseNode(lab.layout, "gate");
    log(`scenario 15: gate materialised again from its user data (${result.files.length} files)`);
    lab.installDeliveredScripts();
    const setup = await lab.runScript("gate", "setup", [], 180_000);
    setupStatus = setup.status;
    if (setup.status !== 0) log(`scenario 15: setup.sh exited ${setup.status}: ${setup.stderr}`);
    const sw = await lab.runScript("gate", "switch-active", ["blue", "--drain", "0"], 60_000);
    switchStatus = sw.status;
    await waitFor(async () => ((await lab.activeColor()) === "blue" ? true : undefined), 30_000, 100);
    await sleep(1000);
  } finally {
    rebuilding = false;
  }
  const records = (await load).records;
  const sum = summarise(records);
  const outage = longestGap(records, wipedAt);

  const reader = tokenClient(lab);
  let present = -1;
  const ok = await waitFor(
    async () => {
      try {
        if (reader.status !== "ready") await reader.connect();
        present = await countTokens(reader, keys);
        return true;
      } catch {
        return undefined;
      }
    },
    30_000,
    200,
  );
  if (ok) await reader.del(...keys).catch(() => 0);
  reader.disconnect();
  const masterAfter = await waitFor(
    async () => {
      const m = await sentinelMaster(lab, "gate");
      return m !== null && m === masterBefore ? m : undefined;
    },
    60_000,
    500,
  );

  figures.add(figure("setupExit", "setup.sh on the rebuilt gate", setupStatus, "", "0", setupStatus === 0));
  figures.add(
    figure("switchExit", "switch back to the live color", switchStatus, "", "0", switchStatus === 0),
  );
  figures.add(
    ...tokenFigures(tokens, acknowledged, present, {
      acknowledged: "tokens acknowledged before the wipe",
      lost: "tokens lost across the rebuild",
    }),
  );
  figures.add(figure("outageMs", "live outage (longest gap between successful responses)", outage, "ms"));
  figures.add(figure("requests", "live requests during the rebuild", sum.total, "requests"));
  figures.add(figure("failedRequests", "failed live requests (the outage)", sum.failed, "requests"));
  const agreed = masterAfter !== null && masterAfter !== undefined;
  figures.add(
    figure(
      "gateSentinelAgrees",
      "the rebuilt gate's Sentinel names the message master",
      agreed,
      "",
      "true",
      agreed,
    ),
  );
  await baseline(lab, log);
  return figures;
}
