/**
 * The free-tier guard in parseConfig, driven by a cost model this test controls (so it does not
 * depend on the real price table in cost/free-tier.ts).
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../../config";
import type { CostEstimate, LayoutUsage } from "../../cost/free-tier";
import { validRaw } from "../fixtures";

const model = vi.hoisted(() => ({
  estimate: undefined as unknown as CostEstimate,
  calls: [] as LayoutUsage[],
}));

// Hoisted above the imports by vitest, so config.ts sees this cost model.
vi.mock("../../cost/free-tier", () => ({
  estimateMonthlyCost: (usage: LayoutUsage) => {
    model.calls.push(usage);
    return model.estimate;
  },
}));

const OVER: CostEstimate = {
  monthlyUsd: 12.345,
  monthlyUsdWithoutFreeTier: 40,
  lines: [],
  withinFreeTier: false,
  overages: [
    "A1 OCPU-hours 2,920/month exceed the free 1,500",
    "A1 GB-hours 17,520/month exceed the free 9,000",
  ],
  source: "test",
};
const WITHIN: CostEstimate = { ...OVER, monthlyUsd: 0, withinFreeTier: true, overages: [] };

beforeEach(() => {
  model.calls.length = 0;
});

describe("free-tier guard", () => {
  it("refuses a layout beyond the allowance without acknowledgeCharges, naming the key and the estimate", () => {
    model.estimate = OVER;
    expect(() => parseConfig(validRaw({ acknowledgeCharges: false }))).toThrow(
      "yquant:acknowledgeCharges: the layout is estimated at $12.35/month beyond the Always Free allowance " +
        "(A1 OCPU-hours 2,920/month exceed the free 1,500; A1 GB-hours 17,520/month exceed the free 9,000). " +
        "Allowed: true to accept the charges, or a layout within the Always Free allowance.",
    );
  });

  it("accepts it with acknowledgeCharges, and carries the estimate", () => {
    model.estimate = OVER;
    expect(parseConfig(validRaw({ acknowledgeCharges: true })).costEstimate).toEqual(OVER);
  });

  it("accepts a layout within the allowance without acknowledgeCharges", () => {
    model.estimate = WITHIN;
    expect(parseConfig(validRaw({ acknowledgeCharges: false })).costEstimate.withinFreeTier).toBe(true);
  });

  it("hands the cost model every instance, the reserved IP, the NAT gateway and the token volume", () => {
    model.estimate = WITHIN;
    parseConfig(validRaw({ natGateway: false, engineOcpus: 1, engineMemoryGbs: 6, bootVolumeSizeGbs: 60 }));
    expect(model.calls).toEqual([
      {
        instances: [
          { node: "gate", shape: "VM.Standard.E2.1.Micro", ocpus: 1, memoryGbs: 1, bootVolumeGbs: 60 },
          { node: "blue", shape: "VM.Standard.A1.Flex", ocpus: 1, memoryGbs: 6, bootVolumeGbs: 60 },
          { node: "green", shape: "VM.Standard.A1.Flex", ocpus: 1, memoryGbs: 6, bootVolumeGbs: 60 },
        ],
        reservedPublicIps: 1,
        natGateways: 0,
        blockVolumeGbs: 50,
      },
    ]);
  });

  it("checks the rest of the input before the cost", () => {
    model.estimate = OVER;
    expect(() => parseConfig(validRaw({ acknowledgeCharges: false, activeColor: "red" }))).toThrow(
      /^yquant:activeColor:/,
    );
  });
});
