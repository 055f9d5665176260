/**
 * The Always Free limits and Pay As You Go list prices the cost model (./free-tier.ts) uses: one
 * table (`PRICE_TABLE`), each entry with its source and the date it was read. A month is
 * `HOURS_PER_MONTH` = 730 hours (8,760 hours a year / 12), the convention of Oracle's cost estimator;
 * a 31-day month has 744. The A1 allowance is one constant, `A1_ALWAYS_FREE`, so that it is one edit
 * when Oracle changes it again. See docs/cost.md for what was verified about the June 2026 cut.
 */
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
