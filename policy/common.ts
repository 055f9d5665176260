/**
 * What every rule of the pack shares: the OCI provider's type tokens (`__pulumiType` in @pulumi/oci
 * 4.20.0, e.g. `oci:Core/instance:Instance`, compared without regard to case, so
 * `oci:core/instance:Instance` matches too), the name a message gives a resource, and reading a
 * rule's config over its defaults. The policy sees a resource's input properties in camelCase
 * (`createVnicDetails.assignPublicIp`, `instanceOptions.areLegacyImdsEndpointsDisabled`, ...).
 */
export const TYPES = {
  instance: "oci:Core/instance:Instance",
  nsgRule: "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
  securityList: "oci:Core/securityList:SecurityList",
  publicIp: "oci:Core/publicIp:PublicIp",
} as const;

export function isType(actual: string, expected: string): boolean {
  return actual.toLowerCase() === expected.toLowerCase();
}

/** The name a message uses for a resource: its displayName, or its Pulumi name. */
export function label(args: { name: string; props: Record<string, unknown> }): string {
  const displayName = args.props["displayName"];
  return typeof displayName === "string" && displayName !== "" ? displayName : args.name;
}

export function isTrue(value: unknown): boolean {
  return value === true || (typeof value === "string" && value.toLowerCase() === "true");
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
}

/** A rule's config: what `--policy-pack-config` gives, over `defaults`. */
export function config<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
  const given = (args.getConfig<Partial<T>>() ?? {}) as Partial<T>;
  const merged = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as T;
}

/** A config property that is a list of strings (`defaults` copied, so the schema cannot change them). */
export function stringList(defaults: readonly string[]) {
  return { type: "array", items: { type: "string" }, default: [...defaults] } as const;
}
