/**
 * The durability model's figures for the message master's faults (docs/valkey.md, "Failures: the
 * durability model"): the loss bound of a writer without `WAIT`, and what the gate's never-promoted
 * replica costs in memory.
 */
import { NodeName, gateNode } from "../../cloud-init/layout";
import { MESSAGE_REPLICA_UNIT, MESSAGE_WRITE_GUARD } from "../../cloud-init/valkey";
import { Lab } from "../lab";
import { processGroup, rssBytes } from "../processes";
import { respCommand } from "../resp";
import { Figure, figure, valkeyTarget } from "./common";

/**
 * The loss window of a writer without `WAIT` (docs/valkey.md, "Failures: the durability model"):
 * replicas acknowledge once a second and Valkey counts their lag in whole seconds, so a cut-off
 * master refuses writes (NOREPLICAS) within `min-replicas-max-lag` + 1 s of the last acknowledgement
 * it got; one second more for this loaded 2-core machine.
 */
export const LOSS_WINDOW_MS = (MESSAGE_WRITE_GUARD.minReplicasMaxLagSeconds + 2) * 1000;
/**
 * The most a writer without `WAIT` may lose: every write it had acknowledged within LOSS_WINDOW_MS
 * of each moment the old master was cut off (`starts`: the fault, and for a freeze also the SIGCONT,
 * when it runs again with stale replicas), its own rate over the window, plus the second before each
 * (writes that may not have reached a replica yet).
 */
export function lossBound(ackTimes: readonly number[], starts: readonly number[]): number {
  return ackTimes.filter((t) => starts.some((s) => t >= s - 1000 && t <= s + LOSS_WINDOW_MS)).length;
}

/**
 * How long after the latest of `starts` before it the old master still acknowledged a write that was
 * then lost (`lost` are positions in `ackTimes`): the longest such delay; 0 when none was lost.
 */
export function lossWindowMs(
  ackTimes: readonly number[],
  lost: readonly number[],
  starts: readonly number[],
): number {
  let window = 0;
  for (const i of lost) {
    const t = ackTimes[i];
    if (t === undefined) continue;
    const since = starts.filter((s) => s <= t);
    if (since.length > 0) window = Math.max(window, Math.round(t - Math.max(...since)));
  }
  return window;
}

/** The gate replica's RSS and the message store's data (`used_memory` on the master) now. */
export async function replicaMemory(lab: Lab, master: NodeName): Promise<Figure[]> {
  const gate = gateNode(lab.layout.topology);
  const pid = lab.pid(gate, MESSAGE_REPLICA_UNIT);
  const rss = pid === null ? null : processGroup(pid).reduce((sum, p) => sum + rssBytes(p), 0);
  const info = String(await respCommand(valkeyTarget(lab, master), "INFO", "memory").catch(() => ""));
  const used = /^used_memory:(\d+)/m.exec(info)?.[1];
  const mb = (b: number): number => Math.round((b / (1024 * 1024)) * 10) / 10;
  return [
    figure(
      "gateReplicaRssMb",
      "the gate's message replica: RSS after the writers stopped",
      rss === null ? null : mb(rss),
      "MB",
    ),
    figure(
      "messageUsedMemoryMb",
      "the message store's data then (used_memory on the master)",
      used === undefined ? null : mb(Number(used)),
      "MB",
    ),
  ];
}
