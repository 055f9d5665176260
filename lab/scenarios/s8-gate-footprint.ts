/**
 * Scenario 8, gate footprint: the summed resident memory (VmRSS) of HAProxy (master and workers),
 * the token Valkey and Sentinel on the gate (and, in "all", the message replica and monitoring's
 * agents), sampled while scenario 1 runs its load and switches.
 * The gate is a VM.Standard.E2.1.Micro with 1 GB: goal <= 128 MB.
 */
import { gateNode, roleOf } from "../../cloud-init/layout";
import { MESSAGE_REPLICA_UNIT } from "../../cloud-init/valkey";
import { monitoringUnits } from "../../cloud-init/monitoring";
import { Lab } from "../lab";
import { processGroup, rssBytes } from "../processes";
import { Figure, figure, round } from "./common";

export const GATE_RSS_GOAL_MB = 128;

export interface GateSampler {
  /** Stops sampling and returns the peak and the mean, in bytes (and the peak with monitoring's agents). */
  stop(): { peakBytes: number; meanBytes: number; samples: number; allPeakBytes: number };
}

/**
 * Every unit of the gate: the core ones, the message store's replica, and monitoring's agents
 * (node_exporter, node-metrics.sh).
 */
function allGateUnits(lab: Lab): string[] {
  const gate = gateNode(lab.layout.topology);
  return [
    ...GATE_CORE_UNITS,
    ...(roleOf(lab.layout.topology, gate).messageReplica ? [MESSAGE_REPLICA_UNIT] : []),
    ...monitoringUnits(lab.layout, gate),
  ];
}

/** The gate's services as measured before monitoring existed: the figure stays comparable. */
export const GATE_CORE_UNITS = ["haproxy", "valkey-server", "valkey-sentinel"] as const;

/** Sums VmRSS of every process of the gate's units now (process groups: HAProxy workers included). */
export function gateRssBytes(lab: Lab, units: readonly string[] = GATE_CORE_UNITS): number {
  let sum = 0;
  for (const unit of units) {
    const pid = lab.pid("gate", unit);
    if (pid === null) continue;
    for (const p of processGroup(pid)) sum += rssBytes(p);
  }
  return sum;
}

/** Samples the gate's RSS every `intervalMs` until stopped. */
export function sampleGate(lab: Lab, intervalMs = 250): GateSampler {
  const values: number[] = [gateRssBytes(lab)];
  const all: number[] = [gateRssBytes(lab, allGateUnits(lab))];
  const timer = setInterval(() => {
    values.push(gateRssBytes(lab));
    all.push(gateRssBytes(lab, allGateUnits(lab)));
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      values.push(gateRssBytes(lab));
      all.push(gateRssBytes(lab, allGateUnits(lab)));
      const peakBytes = Math.max(...values);
      const meanBytes = values.reduce((a, b) => a + b, 0) / values.length;
      return { peakBytes, meanBytes, samples: values.length, allPeakBytes: Math.max(...all) };
    },
  };
}

/** The figures of scenario 8 from a sampler's result. */
export function footprintFigures(result: {
  peakBytes: number;
  meanBytes: number;
  samples: number;
  allPeakBytes: number;
}): Figure[] {
  const mb = (b: number): number => round(b / (1024 * 1024), 1);
  return [
    figure(
      "gateRssPeakMb",
      "gate RSS peak (HAProxy + token Valkey + Sentinel)",
      mb(result.peakBytes),
      "MB",
      `<= ${GATE_RSS_GOAL_MB} MB`,
      mb(result.peakBytes) <= GATE_RSS_GOAL_MB,
    ),
    figure("gateRssMeanMb", "gate RSS mean during the load", mb(result.meanBytes), "MB", "report"),
    figure(
      "gateRssAllPeakMb",
      "gate RSS peak, all services (+ message replica, node_exporter, node-metrics.sh)",
      mb(result.allPeakBytes),
      "MB",
      `<= ${GATE_RSS_GOAL_MB} MB`,
      mb(result.allPeakBytes) <= GATE_RSS_GOAL_MB,
    ),
    figure("gateRssSamples", "RSS samples taken", result.samples, "samples", "report"),
  ];
}
