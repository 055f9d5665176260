/**
 * A cloud-style sample Layout (the defaults of docs/architecture.md, with sample secrets), for the
 * render command and the tests. Never deployed: the Pulumi program builds the real one from config.
 */
import { DEFAULT_APP, DEFAULT_PORTS, DEFAULT_SENTINEL, Layout } from "./layout";

export function sampleLayout(overrides: Partial<Layout> = {}): Layout {
  return {
    roots: { gate: "/", blue: "/", green: "/" },
    nodes: {
      gate: { privateIp: "10.0.1.10", loopback: "127.0.0.1" },
      blue: { privateIp: "10.0.2.10", loopback: "127.0.0.1" },
      green: { privateIp: "10.0.2.11", loopback: "127.0.0.1" },
    },
    publicBind: "*",
    ports: DEFAULT_PORTS,
    adminCidrs: ["203.0.113.0/24"],
    sentinel: DEFAULT_SENTINEL,
    app: DEFAULT_APP,
    secrets: {
      valkeyPassword: "sample-valkey-password-0000",
      sentinelPassword: "sample-sentinel-password-0000",
      tlsPem: "",
    },
    tokenMaxmemoryMb: 256,
    messageMaxmemoryMb: 2048,
    drainSeconds: 30,
    serviceControl: "systemctl",
    production: true,
    ...overrides,
  };
}
