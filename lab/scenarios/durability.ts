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
/** Each writer's rate is measured over this long before the fault. */
const RATE_WINDOW_MS = 1500;

/** The most a writer without `WAIT` may lose: its rate just before the fault over LOSS_WINDOW_MS. */
export function lossBound(ackTimes: readonly number[], faultAt: number): number {
  const before = ackTimes.filter((t) => t >= faultAt - RATE_WINDOW_MS && t < faultAt).length;
  return Math.ceil((before / RATE_WINDOW_MS) * LOSS_WINDOW_MS);
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
