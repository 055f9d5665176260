import { describe, expect, it } from "vitest";
import {
  DEFAULT_APP,
  DEFAULT_MONITORING,
  DEFAULT_PORTS,
  DEFAULT_SENTINEL,
  TOPOLOGY,
} from "../../cloud-init/layout";
import { parseConfig } from "../../config";
import { buildCloudLayout, messageMaxmemoryMb, sentinelAddresses } from "../../stack-layout";
import { ADMIN_CIDR, LAYOUT_SECRETS, validRaw } from "../fixtures";

const SECRETS = LAYOUT_SECRETS;

describe("buildCloudLayout", () => {
  it("builds the cloud Layout from the config and the resolved secrets", () => {
    const config = parseConfig(
      validRaw({
        appRepository: "https://example.com/yquant.git",
        appBuildCommand: "make",
        drainSeconds: 45,
      }),
    );
    expect(buildCloudLayout(config, SECRETS)).toEqual({
      topology: TOPOLOGY,
      roots: { gate: "/", blue: "/", green: "/" },
      nodes: {
        gate: { privateIp: "10.0.1.10", loopback: "127.0.0.1" },
        blue: { privateIp: "10.0.2.10", loopback: "127.0.0.1" },
        green: { privateIp: "10.0.2.11", loopback: "127.0.0.1" },
      },
      publicBind: "*",
      ports: DEFAULT_PORTS,
      adminCidrs: [ADMIN_CIDR],
      sentinel: DEFAULT_SENTINEL,
      app: {
        repository: "https://example.com/yquant.git",
        buildCommand: "make",
        services: DEFAULT_APP.services,
      },
      secrets: SECRETS,
      tokenMaxmemoryMb: 256,
      messageMaxmemoryMb: 32,
      drainSeconds: 45,
      serviceControl: "systemctl",
      production: true,
      monitoring: DEFAULT_MONITORING,
    });
  });

  it("does not read activeColor: blue and green configs give the same Layout", () => {
    const blue = buildCloudLayout(parseConfig(validRaw({ activeColor: "blue" })), SECRETS);
    const green = buildCloudLayout(parseConfig(validRaw({ activeColor: "green" })), SECRETS);
    expect(green).toEqual(blue);
  });

  it("sizes the message store to what the gate's replica holds (a quarter of an engine is always more)", () => {
    expect([messageMaxmemoryMb(12), messageMaxmemoryMb(6), messageMaxmemoryMb(1)]).toEqual([32, 32, 32]);
  });

  it("lists the Sentinels gate first", () => {
    expect(sentinelAddresses(parseConfig(validRaw()))).toEqual([
      "10.0.1.10:26379",
      "10.0.2.10:26379",
      "10.0.2.11:26379",
    ]);
  });
});
