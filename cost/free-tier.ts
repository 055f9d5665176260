/**
 * Cost and Always Free model of the layout: what a layout uses a month, priced against the one
 * table of limits and list prices (./prices.ts), with each overage named.
 */
import { A1_SHAPE, COST_SOURCE, HOURS_PER_MONTH, MICRO_SHAPE, PRICE_TABLE, PriceEntry } from "./prices";

export {
  A1_ALWAYS_FREE,
  A1_SHAPE,
  COST_SOURCE,
  HOURS_PER_MONTH,
  MICRO_SHAPE,
  PRICE_TABLE,
  SOURCES,
} from "./prices";
export type { PriceEntry, Source } from "./prices";

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
  /** Block volumes (not boot volumes) in GB, e.g. the token volume; pooled with the boot volumes. Default 0. */
  readonly blockVolumeGbs?: number;
}

const numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

/** 2920 -> "2,920" (en-US grouping, at most two decimals). */
export function formatQuantity(n: number): string {
  return numberFormat.format(n);
}

/** Price in millionths of a dollar: list prices have at most four decimals, so this is exact. */
function microUsd(usdPerUnit: number): number {
  return Math.round(usdPerUnit * 1_000_000);
}

/** Cost in whole cents of `quantity` units, rounded half up once. */
function cents(quantity: number, usdPerUnit: number): number {
  return Math.round((quantity * microUsd(usdPerUnit)) / 10_000);
}

interface Metered {
  readonly line: CostLine;
  readonly centsWithoutFree: number;
  readonly overage?: string;
}

function meter(
  entry: PriceEntry,
  quantity: number,
  overage?: (quantity: string, free: string) => string,
): Metered {
  const billable = Math.max(0, quantity - entry.freeQuantity);
  const line: CostLine = {
    item: entry.item,
    unit: entry.unit,
    quantity,
    freeQuantity: entry.freeQuantity,
    billableQuantity: billable,
    monthlyUsd: cents(billable, entry.usdPerUnit) / 100,
  };
  const result: Metered = { line, centsWithoutFree: cents(quantity, entry.usdPerUnit) };
  return billable > 0 && overage
    ? { ...result, overage: overage(formatQuantity(quantity), formatQuantity(entry.freeQuantity)) }
    : result;
}

/** Items Oracle does not charge for: the whole quantity is shown as free. */
function noCharge(entry: PriceEntry, quantity: number): Metered {
  return {
    line: {
      item: entry.item,
      unit: entry.unit,
      quantity,
      freeQuantity: quantity,
      billableQuantity: 0,
      monthlyUsd: 0,
    },
    centsWithoutFree: 0,
  };
}

function checkUsage(usage: LayoutUsage): void {
  const counts: [string, number][] = [
    ["reservedPublicIps", usage.reservedPublicIps],
    ["natGateways", usage.natGateways],
    ["blockVolumeGbs", usage.blockVolumeGbs ?? 0],
  ];
  for (const i of usage.instances) {
    counts.push([`instances[${i.node}].ocpus`, i.ocpus]);
    counts.push([`instances[${i.node}].memoryGbs`, i.memoryGbs]);
    counts.push([`instances[${i.node}].bootVolumeGbs`, i.bootVolumeGbs]);
  }
  for (const [field, value] of counts) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`estimateMonthlyCost: ${field} must be a finite number >= 0, got ${value}`);
    }
  }
}

/**
 * The monthly cost of a layout on Pay As You Go after the Always Free allowance, line by line.
 *
 * A1 usage is pooled across instances (the allowance is tenancy-wide); boot volumes are pooled
 * against the 200 GB. An instance of a shape with no price in the table is listed with no cost and
 * an overage sentence, so the layout never counts as free by accident.
 */
export function estimateMonthlyCost(usage: LayoutUsage): CostEstimate {
  checkUsage(usage);
  const micro = usage.instances.filter((i) => i.shape === MICRO_SHAPE);
  const a1 = usage.instances.filter((i) => i.shape === A1_SHAPE);
  const unpriced = usage.instances.filter((i) => i.shape !== MICRO_SHAPE && i.shape !== A1_SHAPE);

  const ocpuHours = a1.reduce((sum, i) => sum + i.ocpus, 0) * HOURS_PER_MONTH;
  const gbHours = a1.reduce((sum, i) => sum + i.memoryGbs, 0) * HOURS_PER_MONTH;
  const bootGbs = usage.instances.reduce((sum, i) => sum + i.bootVolumeGbs, 0) + (usage.blockVolumeGbs ?? 0);

  const metered: Metered[] = [
    meter(
      PRICE_TABLE.microInstances,
      micro.length,
      (q, f) => `${MICRO_SHAPE} instances ${q} exceed the free ${f}`,
    ),
    meter(PRICE_TABLE.a1OcpuHours, ocpuHours, (q, f) => `A1 OCPU-hours ${q}/month exceed the free ${f}`),
    meter(PRICE_TABLE.a1MemoryGbHours, gbHours, (q, f) => `A1 GB-hours ${q}/month exceed the free ${f}`),
    meter(
      PRICE_TABLE.blockVolumeStorage,
      bootGbs,
      (q, f) => `Boot and block volumes ${q} GB exceed the free ${f} GB`,
    ),
    // Same quantity and allowance as the storage line: one overage sentence covers both.
    meter(PRICE_TABLE.blockVolumePerformance, bootGbs),
    noCharge(PRICE_TABLE.reservedPublicIps, usage.reservedPublicIps),
    noCharge(PRICE_TABLE.natGateways, usage.natGateways),
  ];

  const overages = metered.map((m) => m.overage).filter((o): o is string => o !== undefined);
  for (const i of unpriced) {
    overages.push(`${i.node}: shape ${i.shape} has no price in the table, so its cost is not included`);
  }
  const lines = metered.map((m) => m.line);
  for (const i of unpriced) {
    lines.push({
      item: `${i.shape} (${i.node}), not priced`,
      unit: "instance",
      quantity: 1,
      freeQuantity: 0,
      billableQuantity: 1,
      monthlyUsd: 0,
    });
  }

  const totalCents = metered.reduce((sum, m) => sum + Math.round(m.line.monthlyUsd * 100), 0);
  const totalCentsWithoutFree = metered.reduce((sum, m) => sum + m.centsWithoutFree, 0);
  return {
    monthlyUsd: totalCents / 100,
    monthlyUsdWithoutFreeTier: totalCentsWithoutFree / 100,
    lines,
    withinFreeTier: overages.length === 0,
    overages,
    source: COST_SOURCE,
  };
}

/** "$26.98" */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}
