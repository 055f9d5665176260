/**
 * Cost and Always Free model of the layout.
 *
 * Every limit and price lives in one table below (`PRICE_TABLE`), each with its source and the date
 * it was read. A month is `HOURS_PER_MONTH` = 730 hours (8,760 hours a year / 12), the convention of
 * Oracle's cost estimator; a 31-day month has 744.
 *
 * The A1 allowance is one constant, `A1_ALWAYS_FREE`, so that it is one edit when Oracle changes it
 * again. See docs/cost.md for what was verified about the June 2026 cut and what was not.
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
  /** Block volumes (not boot volumes) in GB, e.g. the token volume; pooled with the boot volumes. Default 0. */
  readonly blockVolumeGbs?: number;
}

/** Hours in the month the model prices: 730 (8,760 / 12). */
export const HOURS_PER_MONTH = 730;

export const A1_SHAPE = "VM.Standard.A1.Flex";
export const MICRO_SHAPE = "VM.Standard.E2.1.Micro";

export interface Source {
  readonly title: string;
  readonly url: string;
  /** The date the figure was read (ISO). */
  readonly read: string;
  /** How it was read: from Oracle's own page, or from a quotation of it. */
  readonly note?: string;
}

export const SOURCES = {
  alwaysFree: {
    title: "Oracle Cloud Infrastructure Documentation: Always Free Resources",
    url: "https://docs.oracle.com/en-us/iaas/Content/FreeTier/freetier_topic-Always_Free_Resources.htm",
    read: "2026-11-26",
    note:
      "Oracle's page itself could not be retrieved from here; its A1 sentence is quoted verbatim, " +
      "with this URL, by several independent third parties dated 2026-06-13 to 2026-10-04, and " +
      "Web Archive copies of the page are reported to show 3,000/18,000 on 2026-06-05 and " +
      "1,500/9,000 from 2026-06-12.",
  },
  computePricing: {
    title: "Oracle Cloud Infrastructure: Compute Pricing",
    url: "https://www.oracle.com/cloud/compute/pricing/",
    read: "2026-11-26",
  },
  blockVolumePricing: {
    title: "Oracle Cloud Infrastructure: Block Volumes Pricing",
    url: "https://www.oracle.com/cloud/storage/block-volumes/pricing/",
    read: "2026-11-26",
    note:
      "Oracle's page lists the Balanced performance units ($0.017 per GB-month for 10 VPUs); the " +
      "storage price did not render there and is the price list's $0.0255 per GB-month as quoted " +
      "from Oracle's price list API (part B91961) by a third-party review dated 2026-10-04.",
  },
  priceList: {
    title: "Oracle Cloud Price List",
    url: "https://www.oracle.com/cloud/price-list/",
    read: "2026-11-26",
    note:
      "No line item for reserved public IPv4 addresses or NAT gateways was found; both are priced " +
      "at $0 here. Check the price list before relying on that.",
  },
} as const satisfies Record<string, Source>;

/**
 * The Always Free A1 allowance a month, for the whole tenancy.
 *
 * Oracle's Always Free Resources page (quoted): "All tenancies get the first 1,500 OCPU hours and
 * 9,000 GB hours per month for free for VM instances using the VM.Standard.A1.Flex shape [...]. For
 * Always Free tenancies, this is equivalent to 2 OCPUs and 12 GB of memory." Until June 2026 the same
 * page said 3,000 OCPU hours and 18,000 GB hours (4 OCPUs and 24 GB). Oracle's price list and Arm
 * pricing page are quoted as still saying "Each paid tenancy gets the first 3,000 OCPU hours and
 * 18,000 GB hours per month for free": on a Pay As You Go tenancy the allowance may be the old one.
 * The model keeps the lower, documented Always Free figure. Change it here.
 */
export const A1_ALWAYS_FREE = {
  ocpuHours: 1_500,
  memoryGbHours: 9_000,
} as const;

export interface PriceEntry {
  readonly item: string;
  readonly unit: string;
  /** Always Free quantity a month (tenancy-wide). */
  readonly freeQuantity: number;
  /** Pay As You Go list price in USD per unit. */
  readonly usdPerUnit: number;
  readonly source: Source;
}

/** The one table of Always Free limits and Pay As You Go list prices (USD). */
export const PRICE_TABLE = {
  microInstances: {
    item: "VM.Standard.E2.1.Micro instances",
    unit: "instance",
    // "up to two Always Free VM instances using the VM.Standard.E2.1.Micro shape"; the price list
    // shows E2 Micro as "Free" and the shape exists only as Always Free, so it has no PAYG price.
    freeQuantity: 2,
    usdPerUnit: 0,
    source: SOURCES.alwaysFree,
  },
  a1OcpuHours: {
    item: "A1 OCPU-hours",
    unit: "OCPU-hour",
    freeQuantity: A1_ALWAYS_FREE.ocpuHours,
    usdPerUnit: 0.01,
    source: SOURCES.computePricing,
  },
  a1MemoryGbHours: {
    item: "A1 GB-hours",
    unit: "GB-hour",
    freeQuantity: A1_ALWAYS_FREE.memoryGbHours,
    usdPerUnit: 0.0015,
    source: SOURCES.computePricing,
  },
  blockVolumeStorage: {
    item: "Block volume storage",
    unit: "GB-month",
    // "200 GB total of combined boot volume and block volume" (Always Free Resources)
    freeQuantity: 200,
    usdPerUnit: 0.0255,
    source: SOURCES.blockVolumePricing,
  },
  blockVolumePerformance: {
    item: "Block volume performance (Balanced, 10 VPUs/GB)",
    unit: "GB-month",
    freeQuantity: 200,
    usdPerUnit: 0.017,
    source: SOURCES.blockVolumePricing,
  },
  reservedPublicIps: {
    item: "Reserved public IPs",
    unit: "IP",
    freeQuantity: 0,
    usdPerUnit: 0,
    source: SOURCES.priceList,
  },
  natGateways: {
    item: "NAT gateways",
    unit: "gateway",
    freeQuantity: 0,
    usdPerUnit: 0,
    source: SOURCES.priceList,
  },
} as const satisfies Record<string, PriceEntry>;

export const COST_SOURCE =
  `Always Free limits: ${SOURCES.alwaysFree.title} (${SOURCES.alwaysFree.url}); ` +
  `prices: ${SOURCES.computePricing.title} (${SOURCES.computePricing.url}), ` +
  `${SOURCES.blockVolumePricing.title} (${SOURCES.blockVolumePricing.url}), ` +
  `${SOURCES.priceList.title} (${SOURCES.priceList.url}); read 2026-11-26; ` +
  `${HOURS_PER_MONTH} hours a month; Pay As You Go list prices in USD.`;

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
