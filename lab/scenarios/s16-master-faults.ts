/**
 * Scenarios 16 and 17, faults of the message master under write load from the four kinds of writer
 * (lab/scenarios/writers.ts, the pinned ones on blue, the master at the start):
 *
 * - 16, partition: `lab partition blue` (every packet between blue's address and the other nodes'
 *   dropped) for PARTITION_MS, then `heal`;
 * - 17, freeze: SIGSTOP of blue's valkey-server for FREEZE_MS, then SIGCONT.
 *
 * The writers run from 127.0.0.1, which reaches both sides, as an app that still reaches the old
 * master would. Figures: when the side holding the Sentinel majority (the gate's and green's
 * Sentinels) names the new master and takes an app write (`majorityWritableMs`), whether a `WAIT 1`
 * write succeeds there while blue stays away (`waitWritableAfterFailoverMs`: the gate's replica
 * acknowledges it), how long blue still answers as a master after the fault ends, and each writer's
 * acknowledged writes that the final master does not hold (`lost.<kind>`), which for a writer
 * without `WAIT` is bounded by `min-replicas-max-lag` (`lossWindowMs.<kind>`, `lossBound.<kind>`).
 */
import Valkey from "iovalkey";
import { Color, NodeName } from "../../cloud-init/layout";
import { Lab } from "../lab";
import { sleep, waitFor } from "../poll";
import { signalPids } from "../processes";
import { heal, partition } from "../partition";
import { sentinelMaster } from "../probes";
import { respCommand } from "../resp";
import {
  Figures,
  ScenarioContext,
  agreedMaster,
  baseline,
  ensureMaster,
  figure,
  ms,
  replicaOutOfSync,
  valkeyRole,
  valkeyTarget,
} from "./common";
import { dropKeys, formatErrors, lostKeys, pinnedClient, startWriters } from "./writers";
import { LOSS_WINDOW_MS, lossBound, lossWindowMs, replicaMemory } from "./durability";
import { MESSAGE_WRITE_GUARD } from "../../cloud-init/valkey";

/** How long the master stays cut off (the measurement used 20 s). */
export const PARTITION_MS = 20_000;
/** How long the master's Valkey stays stopped (longer than down-after-milliseconds, 5 s). */
export const FREEZE_MS = 12_000;
/** The goal for the majority side: writable within this long of the fault. */
export const MAJORITY_WRITABLE_GOAL_MS = 7_000;
/** The goal for `WAIT 1` writes after a failover while the old master stays away. */
export const WAIT_WRITABLE_GOAL_MS = 10_000;
type Fault = "partition" | "freeze";

/** One app write (SET, and WAIT 1 when `wait`) on `node` with the apps' user; true when acknowledged. */
async function appWrite(client: Valkey, key: string, wait: boolean): Promise<boolean> {
  await client.set(key, "1");
  if (!wait) return true;
  return Number(await client.call("WAIT", "1", "500")) >= 1;
}

/**
 * Until `deadline`: waits for the gate's Sentinel (on the majority side) to name another master than
 * `old`, then for an app write there, then for a `WAIT 1` write there. Times are performance.now().
 */
async function probeMajority(
  ctx: ScenarioContext,
  old: NodeName,
  deadline: number,
): Promise<{ newMaster: NodeName | null; writableAt: number | null; waitWritableAt: number | null }> {
  const { lab } = ctx;
  let newMaster: NodeName | null = null;
  let writableAt: number | null = null;
  let waitWritableAt: number | null = null;
  let client: Valkey | null = null;
  let n = 0;
  try {
    while (performance.now() < deadline && waitWritableAt === null) {
      if (newMaster === null) {
        const named = await sentinelMaster(lab, "gate", 500).catch(() => null);
        const node = named ? lab.nodeOf(named.split(":")[0] ?? "") : null;
        if (node !== null && node !== old) {
          newMaster = node;
          client = pinnedClient(ctx.lab, node, 1000);
        }
      } else if (client !== null) {
        n += 1;
        try {
          const wait = writableAt !== null;
          const ok = await appWrite(client, `s16-probe:${n}`, wait);
          if (ok && !wait) writableAt = performance.now();
          else if (ok && wait) waitWritableAt = performance.now();
        } catch {
          // not writable yet
        }
      }
      await sleep(20);
    }
  } finally {
    client?.disconnect();
  }
  return { newMaster, writableAt, waitWritableAt };
}

/**
 * Waits (at most 30 s) until every replica of the message store replicates blue, in sync; throws
 * naming the one that does not. The fault must hit a store in sync: a CI run once froze blue while
 * green, restarted seconds before, was still waiting for its first sync, so Sentinel promoted a
 * replica without the latest writes.
 */
async function replicasInSync(lab: Lab, master: Color): Promise<void> {
  let last: string | null = null;
  const ok = await waitFor(
    async () => ((last = await replicaOutOfSync(lab, master)) === null ? true : undefined),
    30_000,
    100,
  );
  if (!ok)
    throw new Error(`precondition: a replica is not in sync with ${master} before the fault (${last})`);
}

async function masterFault(ctx: ScenarioContext, fault: Fault): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const figures = new Figures();
  const old: Color = "blue";
  const tag = `s16-${fault}-${Date.now().toString(36)}`;
  await replicasInSync(lab, old);
  const writers = startWriters(lab, tag, old);
  const pid = lab.pid(old, "valkey-server");
  try {
    await sleep(2000);
    await replicasInSync(lab, old);
    const faultMs = fault === "partition" ? PARTITION_MS : FREEZE_MS;
    log(`scenario: ${fault} of ${old} (message master) for ${faultMs / 1000} s under four writers`);
    const faultAt = performance.now();
    if (fault === "partition") partition(lab.layout, old);
    else if (pid !== null) signalPids([pid], "SIGSTOP");
    const probe = await probeMajority(ctx, old, faultAt + faultMs);
    const left = faultAt + faultMs - performance.now();
    if (left > 0) await sleep(left);
    log(`scenario: ${fault === "partition" ? "heal" : "SIGCONT"} ${old}`);
    const endAt = performance.now();
    if (fault === "partition") heal(lab.layout, old);
    else if (pid !== null) signalPids([pid], "SIGCONT");
    // How long the old master still answers as a master once it is back.
    let masterUntil: number | null = null;
    const demoted = await waitFor(
      async () => {
        const role = await valkeyRole(lab, old);
        if (role === "master") masterUntil = performance.now();
        return role === "slave" ? true : undefined;
      },
      60_000,
      50,
    );
    const linked = await waitFor(async () => {
      const info = await respCommand(valkeyTarget(lab, old), "INFO", "replication").catch(() => "");
      return String(info).includes("master_link_status:up") ? true : undefined;
    }, 60_000);
    await sleep(1500);
    const results = await Promise.all(writers.map((w) => w.stop()));
    const finalMaster = (await agreedMaster(lab)) ?? probe.newMaster ?? old;
    for (const f of await replicaMemory(ctx.lab, finalMaster)) figures.add(f);

    const majorityMs = probe.writableAt !== null ? ms(faultAt, probe.writableAt) : null;
    figures.add(
      figure(
        "majorityWritableMs",
        "fault to the first app write on the master the majority names",
        majorityMs,
        "ms",
        `<= ${MAJORITY_WRITABLE_GOAL_MS}`,
        majorityMs !== null && majorityMs <= MAJORITY_WRITABLE_GOAL_MS,
      ),
    );
    figures.add(
      figure(
        "newMaster",
        "master the majority named",
        probe.newMaster,
        "",
        "green",
        probe.newMaster === "green",
      ),
    );
    const waitMs =
      probe.waitWritableAt !== null && probe.writableAt !== null
        ? ms(probe.writableAt, probe.waitWritableAt)
        : null;
    figures.add(
      figure(
        "waitWritableAfterFailoverMs",
        `first WAIT 1 write on the new master while ${old} is away (after its first plain write)`,
        waitMs,
        "ms",
        `<= ${WAIT_WRITABLE_GOAL_MS} (the gate's replica acknowledges)`,
        waitMs !== null && waitMs <= WAIT_WRITABLE_GOAL_MS,
      ),
    );
    const stillMasterMs = masterUntil !== null ? Math.max(0, ms(endAt, masterUntil)) : 0;
    figures.add(
      figure(
        "oldMasterAfterFaultMs",
        `${old} still answering as a master after the ${fault === "partition" ? "heal" : "SIGCONT"}`,
        stillMasterMs,
        "ms",
      ),
    );
    figures.add(
      figure(
        "oldMasterDemoted",
        `${old} a replica again`,
        demoted === true && linked === true,
        "",
        "true",
        demoted === true && linked === true,
      ),
    );
    for (const r of results) {
      const missing = await lostKeys(lab, finalMaster, `${tag}:${r.kind}`, r.acked);
      const lost = missing.length;
      const waits = r.kind.endsWith("Wait");
      // A frozen master runs again at SIGCONT with its replicas' last acknowledgement long past.
      const starts = fault === "freeze" ? [faultAt, endAt] : [faultAt];
      const bound = lossBound(r.ackTimes, starts);
      const window = lossWindowMs(r.ackTimes, missing, starts);
      figures.add(
        figure(
          `lost.${r.kind}`,
          `${r.kind}: acknowledged writes the final master does not hold (${r.acked.length} acknowledged of ${r.attempts}; errors: ${formatErrors(r.errors)})`,
          lost,
          "writes",
          waits
            ? "0"
            : `<= ${bound} (its acknowledgements from 1 s before the ${fault === "freeze" ? "fault or the SIGCONT" : "fault"} to ${LOSS_WINDOW_MS / 1000} s after)`,
          waits ? lost === 0 : lost <= bound,
        ),
      );
      if (!waits) {
        figures.add(
          figure(
            `lossBound.${r.kind}`,
            `${r.kind}: its acknowledgements from 1 s before the fault to the end of the loss window`,
            bound,
            "writes",
          ),
        );
        figures.add(
          figure(
            `lossWindowMs.${r.kind}`,
            `${r.kind}: ${fault === "freeze" ? "fault or SIGCONT" : "fault"} to the old master's last acknowledgement of a write that was lost`,
            window,
            "ms",
            `<= ${LOSS_WINDOW_MS} (min-replicas-max-lag ${MESSAGE_WRITE_GUARD.minReplicasMaxLagSeconds} s + 2 s)`,
            window <= LOSS_WINDOW_MS,
          ),
        );
      }
      figures.add(figure(`acked.${r.kind}`, `${r.kind}: acknowledged writes`, r.acked.length, "writes"));
    }
    for (const r of results) await dropKeys(lab, finalMaster, `${tag}:${r.kind}`, r.attempts);
    return figures;
  } finally {
    await Promise.all(writers.map((w) => w.stop()));
    if (fault === "partition") heal(lab.layout, old);
    else if (pid !== null) signalPids([pid], "SIGCONT");
    await ensureMaster(lab, "blue", log);
    await baseline(lab, log);
  }
}

/** Scenario 16: partition of the message master, then heal. */
export function masterPartition(ctx: ScenarioContext): Promise<Figures> {
  return masterFault(ctx, "partition");
}

/** Scenario 17: freeze (SIGSTOP) of the message master's Valkey, then SIGCONT. */
export function masterFreeze(ctx: ScenarioContext): Promise<Figures> {
  return masterFault(ctx, "freeze");
}
