/**
 * Interface placeholder: the guardrails work replaces the body with the documented price and
 * Always Free table. The signature is the contract config validation builds on.
 */

/** One instance of the layout as the cost model sees it. */
export interface InstanceUsage {
  readonly node: string;
  readonly shape: string;
  readonly ocpus: number;
  readonly memoryGbs: number;
  readonly bootVolumeGbs: number;
}

export interface CostLine {
  readonly item: string;
  readonly unit: string;
  readonly quantity: number;
  readonly freeQuantity: number;
  readonly billableQuantity: number;
  readonly monthlyUsd: number;
}

export interface CostEstimate {
  /** What the layout costs a month after the Always Free allowance. */
  readonly monthlyUsd: number;
  /** What it would cost with no allowance at all. */
  readonly monthlyUsdWithoutFreeTier: number;
  readonly lines: readonly CostLine[];
  readonly withinFreeTier: boolean;
  /** One sentence per limit exceeded, e.g. "A1 OCPU-hours 2,920/month exceed the free 1,500". */
  readonly overages: readonly string[];
  /** Where the limits and prices come from, and the date they were read. */
  readonly source: string;
}

export interface LayoutUsage {
  readonly instances: readonly InstanceUsage[];
  readonly reservedPublicIps: number;
  readonly natGateways: number;
}

export function estimateMonthlyCost(usage: LayoutUsage): CostEstimate {
  return {
    monthlyUsd: 0,
    monthlyUsdWithoutFreeTier: 0,
    lines: [],
    withinFreeTier: usage.instances.length >= 0,
    overages: [],
    source: "placeholder",
  };
}
