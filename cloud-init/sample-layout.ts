/**
 * A cloud-style sample Layout (the defaults of docs/architecture.md, with sample secrets), for the
 * render command and the tests. Never deployed: the Pulumi program builds the real one from config.
 */
import {
  DEFAULT_APP,
  DEFAULT_MONITORING,
  DEFAULT_PORTS,
  DEFAULT_SENTINEL,
  Layout,
  TOPOLOGY,
  USER_SECRETS,
  UserSecret,
} from "./layout";

/** The default subnets' first three octets (yquant:gateSubnetCidr, yquant:engineSubnetCidr). */
const SAMPLE_SUBNETS = { gate: "10.0.1", engine: "10.0.2" } as const;

/** `overrides.topology` (default: the stack's) gives the nodes; their addresses follow its host offsets. */
export function sampleLayout(overrides: Partial<Layout> = {}): Layout {
  const topology = overrides.topology ?? TOPOLOGY;
  return {
    topology,
    roots: Object.fromEntries(topology.nodes.map((n) => [n.name, "/"])),
    nodes: Object.fromEntries(
      topology.nodes.map((n) => [
        n.name,
        { privateIp: `${SAMPLE_SUBNETS[n.subnet]}.${n.hostOffset}`, loopback: "127.0.0.1" },
      ]),
    ),
    publicBind: "*",
    ports: DEFAULT_PORTS,
    adminCidrs: ["203.0.113.0/24"],
    sentinel: DEFAULT_SENTINEL,
    app: DEFAULT_APP,
    secrets: {
      valkeyPassword: "sample-valkey-password-0000",
      sentinelPassword: "sample-sentinel-password-0000",
      tlsPem: "",
      users: sampleUserPasswords("sample"),
    },
    tokenMaxmemoryMb: 256,
    messageMaxmemoryMb: 32,
    drainSeconds: 30,
    serviceControl: "systemctl",
    production: true,
    monitoring: DEFAULT_MONITORING,
    ...overrides,
  };
}

/** One distinct password per ACL user (USER_SECRETS): `<prefix>-<key>-password-0000`. Samples and tests. */
export function sampleUserPasswords(prefix: string): Record<UserSecret, string> {
  return Object.fromEntries(USER_SECRETS.map((key) => [key, `${prefix}-${key}-password-0000`])) as Record<
    UserSecret,
    string
  >;
}
