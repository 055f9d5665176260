/**
 * The network rules between keys: the VCN and its two subnets (inside, not overlapping, large
 * enough for the pinned hosts), the pinned private address of every node of the topology, and the
 * admin CIDRs.
 */
import { Topology } from "../cloud-init/topology";
import { Cidr, cidrContains, cidrsOverlap, formatCidr, hostAddress, parseCidr } from "./cidr";
import { ConfigError, RawConfig, present, readString } from "./read";
import { ConfigKey, keySpec } from "./schema";

/** Subnet prefixes: large enough for the pinned hosts .10 and .11 (OCI reserves the first two and the last). */
export const SUBNET_PREFIX: readonly [number, number] = [16, 28];
/** Admin CIDRs shorter than this count as "the world" and need `allowWorldAdminAccess`. */
export const WORLD_PREFIX_BELOW = 8;

function readCidr(raw: RawConfig, key: ConfigKey): Cidr {
  const text = readString(raw, key);
  const cidr = parseCidr(text);
  if (typeof cidr === "string") {
    throw new ConfigError(key, cidr, "an IPv4 network in CIDR form, e.g. 10.0.0.0/16");
  }
  return cidr;
}

export function readNetwork(
  raw: RawConfig,
  topology: Topology,
): {
  vcnCidr: string;
  gateSubnetCidr: string;
  engineSubnetCidr: string;
  privateIps: Readonly<Record<string, string>>;
} {
  const vcn = readCidr(raw, "vcnCidr");
  const vcnText = formatCidr(vcn);
  if (vcn.prefix < SUBNET_PREFIX[0] || vcn.prefix > SUBNET_PREFIX[1]) {
    throw new ConfigError(
      "vcnCidr",
      `${vcnText} has prefix /${vcn.prefix}`,
      `a prefix from /${SUBNET_PREFIX[0]} to /${SUBNET_PREFIX[1]}`,
    );
  }
  const gate = readCidr(raw, "gateSubnetCidr");
  const engine = readCidr(raw, "engineSubnetCidr");
  const subnetRule = `a subnet of ${vcnText} with a prefix from /${Math.max(vcn.prefix, SUBNET_PREFIX[0])} to /${SUBNET_PREFIX[1]}`;
  for (const [key, cidr] of [
    ["gateSubnetCidr", gate],
    ["engineSubnetCidr", engine],
  ] as const) {
    const text = formatCidr(cidr);
    if (!cidrContains(vcn, cidr)) {
      throw new ConfigError(key, `${text} is not inside yquant:vcnCidr ${vcnText}`, subnetRule);
    }
    if (cidr.prefix > SUBNET_PREFIX[1]) {
      throw new ConfigError(key, `${text} is too small for the pinned hosts .10 and .11`, subnetRule);
    }
  }
  const gateText = formatCidr(gate);
  const engineText = formatCidr(engine);
  if (cidrsOverlap(gate, engine)) {
    throw new ConfigError(
      "engineSubnetCidr",
      `${engineText} overlaps yquant:gateSubnetCidr ${gateText}`,
      `a subnet of ${vcnText} that does not overlap ${gateText}`,
    );
  }
  return {
    vcnCidr: vcnText,
    gateSubnetCidr: gateText,
    engineSubnetCidr: engineText,
    privateIps: Object.fromEntries(
      topology.nodes.map((n) => [n.name, hostAddress({ gate, engine }[n.subnet], n.hostOffset)]),
    ),
  };
}

export function readAdminCidrs(raw: RawConfig, allowWorld: boolean): string[] {
  const value = present(raw, "adminCidrs");
  const max = keySpec("adminCidrs").maxLength ?? 0;
  const allowed = `a list of 1 to ${max} IPv4 CIDRs, e.g. ["203.0.113.7/32"]`;
  if (value === undefined) {
    throw new ConfigError("adminCidrs", "a value is required but none is set", allowed);
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError("adminCidrs", `${JSON.stringify(value)} is not a non-empty list`, allowed);
  }
  if (value.length > max) {
    throw new ConfigError("adminCidrs", `the list has ${value.length} CIDRs, more than ${max}`, allowed);
  }
  const seen = new Set<string>();
  return value.map((item: unknown) => {
    if (typeof item !== "string") {
      throw new ConfigError("adminCidrs", `${JSON.stringify(item)} is not a string`, allowed);
    }
    const worldRule = `CIDRs of /${WORLD_PREFIX_BELOW} or longer, or set yquant:allowWorldAdminAccess to true`;
    if (item.includes(":")) {
      if (item === "::/0" && !allowWorld) {
        throw new ConfigError(
          "adminCidrs",
          "::/0 opens SSH, staging and stats to the whole internet",
          worldRule,
        );
      }
      throw new ConfigError("adminCidrs", `${item} is IPv6 and the VCN has no IPv6`, allowed);
    }
    const cidr = parseCidr(item);
    if (typeof cidr === "string") throw new ConfigError("adminCidrs", cidr, allowed);
    if (cidr.prefix < WORLD_PREFIX_BELOW && !allowWorld) {
      throw new ConfigError(
        "adminCidrs",
        `${item} opens SSH, staging and stats to the whole internet`,
        worldRule,
      );
    }
    if (seen.has(item)) throw new ConfigError("adminCidrs", `${item} is listed twice`, allowed);
    seen.add(item);
    return item;
  });
}
