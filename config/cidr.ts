/**
 * IPv4 CIDR arithmetic for the network settings. Parsing is ipaddr.js's strict four-part decimal
 * form (no leading zeros, no hex or octal parts, no short forms such as `10.1`), which is the part a
 * hand-written parser gets wrong most easily; the prefix is checked here as 0 to 32 without leading
 * zeros. A network is a 32-bit number and a prefix, so containment and overlap are two comparisons.
 */
import * as ipaddr from "ipaddr.js";

export interface Cidr {
  readonly network: number;
  readonly prefix: number;
}

function toNumber(address: ipaddr.IPv4): number {
  return address.toByteArray().reduce((value, octet) => value * 256 + octet, 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

/** Parses `a.b.c.d/n`; a string describing the problem when it is not a network address in CIDR form. */
export function parseCidr(text: string): Cidr | string {
  const match = /^([0-9.]+)\/(0|[1-9][0-9]?)$/.exec(text);
  const address = match?.[1] ?? "";
  const prefix = Number(match?.[2]);
  if (!match || !ipaddr.IPv4.isValidFourPartDecimal(address) || prefix > 32) {
    return `${JSON.stringify(text)} is not an IPv4 CIDR`;
  }
  const network = toNumber(ipaddr.IPv4.networkAddressFromCIDR(text));
  if (network !== toNumber(ipaddr.IPv4.parse(address))) {
    return `${text} has host bits set (the network is ${formatIpv4(network)}/${prefix})`;
  }
  return { network, prefix };
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    inner.prefix >= outer.prefix &&
    inner.network >= outer.network &&
    inner.network + cidrSize(inner) <= outer.network + cidrSize(outer)
  );
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.network < b.network + cidrSize(b) && b.network < a.network + cidrSize(a);
}

/** The address `offset` hosts into `cidr`. */
export function hostAddress(cidr: Cidr, offset: number): string {
  return formatIpv4(cidr.network + offset);
}
