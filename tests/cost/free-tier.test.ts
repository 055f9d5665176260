import { describe, expect, it } from "vitest";
import { layoutUsage } from "../../cost/usage";
import {
  A1_ALWAYS_FREE,
  COST_SOURCE,
  estimateMonthlyCost,
  formatQuantity,
  formatUsd,
  HOURS_PER_MONTH,
  PRICE_TABLE,
  type InstanceUsage,
  type LayoutUsage,
} from "../../cost/free-tier";

const gate = (bootVolumeGbs = 50): InstanceUsage => ({
  node: "gate",
  shape: "VM.Standard.E2.1.Micro",
  ocpus: 1,
  memoryGbs: 1,
  bootVolumeGbs,
});
const engine = (node: string, ocpus = 2, memoryGbs = 12, bootVolumeGbs = 50): InstanceUsage => ({
  node,
  shape: "VM.Standard.A1.Flex",
  ocpus,
  memoryGbs,
  bootVolumeGbs,
});

/** The reference layout: gate E2.1.Micro + blue and green A1 2 OCPU / 12 GB, 3 x 50 GB boot. */
const reference: LayoutUsage = {
  instances: [gate(), engine("blue"), engine("green")],
  reservedPublicIps: 1,
  natGateways: 1,
};

describe("the price table", () => {
  it("holds the documented limits and prices", () => {
    expect(HOURS_PER_MONTH).toBe(730);
    expect(A1_ALWAYS_FREE).toEqual({ ocpuHours: 1500, memoryGbHours: 9000 });
    expect(PRICE_TABLE.a1OcpuHours.freeQuantity).toBe(1500);
    expect(PRICE_TABLE.a1OcpuHours.usdPerUnit).toBe(0.01);
    expect(PRICE_TABLE.a1MemoryGbHours.freeQuantity).toBe(9000);
    expect(PRICE_TABLE.a1MemoryGbHours.usdPerUnit).toBe(0.0015);
    expect(PRICE_TABLE.microInstances.freeQuantity).toBe(2);
    expect(PRICE_TABLE.blockVolumeStorage.freeQuantity).toBe(200);
    expect(PRICE_TABLE.blockVolumeStorage.usdPerUnit).toBe(0.0255);
    expect(PRICE_TABLE.blockVolumePerformance.usdPerUnit).toBe(0.017);
  });

  it("gives every entry a source with a title, an address and the date it was read", () => {
    for (const entry of Object.values(PRICE_TABLE)) {
      expect(entry.source.title).not.toBe("");
      expect(entry.source.url).toMatch(/^https:\/\/(docs|www)\.oracle\.com\//);
      expect(entry.source.read).toBe("2026-11-26");
    }
  });
});

describe("estimateMonthlyCost", () => {
  it("prices the reference layout: one engine's worth of A1 is over the Always Free allowance", () => {
    const e = estimateMonthlyCost(reference);
    expect(e.monthlyUsd).toBe(26.98);
    expect(e.monthlyUsdWithoutFreeTier).toBe(61.86);
    expect(e.withinFreeTier).toBe(false);
    expect(e.overages).toEqual([
      "A1 OCPU-hours 2,920/month exceed the free 1,500",
      "A1 GB-hours 17,520/month exceed the free 9,000",
    ]);
    expect(e.source).toBe(COST_SOURCE);
    expect(e.lines).toEqual([
      {
        item: "VM.Standard.E2.1.Micro instances",
        unit: "instance",
        quantity: 1,
        freeQuantity: 2,
        billableQuantity: 0,
        monthlyUsd: 0,
      },
      {
        item: "A1 OCPU-hours",
        unit: "OCPU-hour",
        quantity: 2920,
        freeQuantity: 1500,
        billableQuantity: 1420,
        monthlyUsd: 14.2,
      },
      {
        item: "A1 GB-hours",
        unit: "GB-hour",
        quantity: 17520,
        freeQuantity: 9000,
        billableQuantity: 8520,
        monthlyUsd: 12.78,
      },
      {
        item: "Block volume storage",
        unit: "GB-month",
        quantity: 150,
        freeQuantity: 200,
        billableQuantity: 0,
        monthlyUsd: 0,
      },
      {
        item: "Block volume performance (Balanced, 10 VPUs/GB)",
        unit: "GB-month",
        quantity: 150,
        freeQuantity: 200,
        billableQuantity: 0,
        monthlyUsd: 0,
      },
      {
        item: "Reserved public IPs",
        unit: "IP",
        quantity: 1,
        freeQuantity: 1,
        billableQuantity: 0,
        monthlyUsd: 0,
      },
      {
        item: "NAT gateways",
        unit: "gateway",
        quantity: 1,
        freeQuantity: 1,
        billableQuantity: 0,
        monthlyUsd: 0,
      },
    ]);
  });

  it("finds a single 2 OCPU / 12 GB engine and the gate within the allowance", () => {
    const e = estimateMonthlyCost({
      instances: [gate(), engine("blue")],
      reservedPublicIps: 1,
      natGateways: 1,
    });
    expect(e.monthlyUsd).toBe(0);
    expect(e.monthlyUsdWithoutFreeTier).toBe(31.99);
    expect(e.withinFreeTier).toBe(true);
    expect(e.overages).toEqual([]);
    expect(e.lines.map((l) => [l.item, l.quantity, l.billableQuantity])).toEqual([
      ["VM.Standard.E2.1.Micro instances", 1, 0],
      ["A1 OCPU-hours", 1460, 0],
      ["A1 GB-hours", 8760, 0],
      ["Block volume storage", 100, 0],
      ["Block volume performance (Balanced, 10 VPUs/GB)", 100, 0],
      ["Reserved public IPs", 1, 0],
      ["NAT gateways", 1, 0],
    ]);
  });

  it("prices a layout over every allowance: 4 OCPU / 24 GB engines, 100 GB boot volumes", () => {
    const e = estimateMonthlyCost({
      instances: [gate(100), engine("blue", 4, 24, 100), engine("green", 4, 24, 100)],
      reservedPublicIps: 2,
      natGateways: 1,
    });
    expect(e.monthlyUsd).toBe(86.71);
    expect(e.monthlyUsdWithoutFreeTier).toBe(123.71);
    expect(e.withinFreeTier).toBe(false);
    expect(e.overages).toEqual([
      "A1 OCPU-hours 5,840/month exceed the free 1,500",
      "A1 GB-hours 35,040/month exceed the free 9,000",
      "Boot and block volumes 300 GB exceed the free 200 GB",
    ]);
    expect(e.lines.map((l) => [l.item, l.billableQuantity, l.monthlyUsd])).toEqual([
      ["VM.Standard.E2.1.Micro instances", 0, 0],
      ["A1 OCPU-hours", 4340, 43.4],
      ["A1 GB-hours", 26040, 39.06],
      ["Block volume storage", 100, 2.55],
      ["Block volume performance (Balanced, 10 VPUs/GB)", 100, 1.7],
      ["Reserved public IPs", 0, 0],
      ["NAT gateways", 0, 0],
    ]);
  });

  it("rounds half a cent up once per line (150 GB x $0.0255 = $3.825 -> $3.83)", () => {
    const e = estimateMonthlyCost({ instances: [gate(350)], reservedPublicIps: 0, natGateways: 0 });
    expect(e.lines[3]).toMatchObject({ billableQuantity: 150, monthlyUsd: 3.83 });
    expect(e.lines[4]).toMatchObject({ billableQuantity: 150, monthlyUsd: 2.55 });
    expect(e.monthlyUsd).toBe(6.38);
    expect(e.overages).toEqual(["Boot and block volumes 350 GB exceed the free 200 GB"]);
  });

  it("counts a third E2.1.Micro as over the two free ones", () => {
    const e = estimateMonthlyCost({
      instances: [gate(), { ...gate(), node: "extra1" }, { ...gate(), node: "extra2" }],
      reservedPublicIps: 0,
      natGateways: 0,
    });
    expect(e.withinFreeTier).toBe(false);
    expect(e.overages).toEqual(["VM.Standard.E2.1.Micro instances 3 exceed the free 2"]);
    expect(e.monthlyUsd).toBe(0);
  });

  it("never calls a shape with no price free", () => {
    const e = estimateMonthlyCost({
      instances: [
        gate(),
        { node: "blue", shape: "VM.Standard.E4.Flex", ocpus: 1, memoryGbs: 8, bootVolumeGbs: 50 },
      ],
      reservedPublicIps: 1,
      natGateways: 1,
    });
    expect(e.withinFreeTier).toBe(false);
    expect(e.overages).toEqual([
      "blue: shape VM.Standard.E4.Flex has no price in the table, so its cost is not included",
    ]);
    expect(e.lines.at(-1)).toEqual({
      item: "VM.Standard.E4.Flex (blue), not priced",
      unit: "instance",
      quantity: 1,
      freeQuantity: 0,
      billableQuantity: 1,
      monthlyUsd: 0,
    });
  });

  it("refuses negative or non-finite quantities, naming the field", () => {
    expect(() => estimateMonthlyCost({ ...reference, natGateways: -1 })).toThrow(
      "estimateMonthlyCost: natGateways must be a finite number >= 0, got -1",
    );
    expect(() => estimateMonthlyCost({ ...reference, instances: [engine("blue", Number.NaN)] })).toThrow(
      "estimateMonthlyCost: instances[blue].ocpus must be a finite number >= 0, got NaN",
    );
  });

  it("is pure: the same usage gives the same estimate", () => {
    expect(estimateMonthlyCost(reference)).toEqual(estimateMonthlyCost(reference));
  });
});

describe("formatting", () => {
  it("groups thousands and prints dollars with cents", () => {
    expect(formatQuantity(17520)).toBe("17,520");
    expect(formatQuantity(1500)).toBe("1,500");
    expect(formatUsd(26.98)).toBe("$26.98");
    expect(formatUsd(0)).toBe("$0.00");
  });
});

describe("the token volume in the Always Free storage", () => {
  it("three 50 GB boot volumes and the 50 GB token volume fill the 200 GB exactly; 60 GB boot volumes do not fit", () => {
    const sizing = {
      gateShape: "VM.Standard.E2.1.Micro",
      gateOcpus: 1,
      gateMemoryGbs: 1,
      engineShape: "VM.Standard.A1.Flex",
      engineOcpus: 1,
      engineMemoryGbs: 6,
      natGateway: true,
    };
    const at50 = estimateMonthlyCost(layoutUsage({ ...sizing, bootVolumeSizeGbs: 50 }));
    expect([at50.withinFreeTier, at50.overages]).toEqual([true, []]);
    const at60 = estimateMonthlyCost(layoutUsage({ ...sizing, bootVolumeSizeGbs: 60 }));
    expect(at60.overages).toEqual(["Boot and block volumes 230 GB exceed the free 200 GB"]);
  });
});
