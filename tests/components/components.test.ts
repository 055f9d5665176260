/**
 * Every component built on its own under the shared mock runtime (tools/preview/mock-program.ts), as
 * awsx's vpc.test.ts does, with exact asserts on what it registers; the whole-program tests are in
 * tests/program and tests/bluegreen.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { releaseCommand, switchCommand } from "../../bluegreen/commands";
import { NO_PREVIOUS_DEPLOYMENT } from "../../bluegreen/guard";
import { BlueGreen } from "../../bluegreen/blue-green";
import { Release } from "../../bluegreen/release";
import { Switch } from "../../bluegreen/switch";
import { GateAddress } from "../../components/gate-address";
import { Network } from "../../components/network";
import {
  ADMIN_CIDR,
  COMPARTMENT,
  ProgramRecording,
  SSH_PRIVATE_KEY,
  build,
  sshConnection,
} from "../fixtures";

const custom = (r: ProgramRecording) =>
  r.resources.filter((x) => x.custom && x.type !== "pulumi:pulumi:Stack");
const names = (r: ProgramRecording, type: string) =>
  custom(r)
    .filter((x) => x.type === type)
    .map((x) => x.name)
    .sort();

describe("Network", () => {
  const args = {
    compartmentId: COMPARTMENT,
    vcnCidr: "10.0.0.0/16",
    gateSubnetCidr: "10.0.1.0/24",
    engineSubnetCidr: "10.0.2.0/24",
    adminCidrs: [ADMIN_CIDR],
  };

  it("registers exactly these resources with a NAT gateway, each a child of the component", async () => {
    const r = await build(() => {
      const network = new Network("t", args);
      return {
        gate: network.gateSubnetId,
        engine: network.engineSubnetId,
        publicIps: network.enginePublicIps,
      };
    });
    expect(
      custom(r)
        .map((x) => x.type)
        .sort(),
    ).toEqual([
      "oci:Core/internetGateway:InternetGateway",
      "oci:Core/natGateway:NatGateway",
      "oci:Core/networkSecurityGroup:NetworkSecurityGroup",
      "oci:Core/networkSecurityGroup:NetworkSecurityGroup",
      ...Array<string>(21).fill("oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule"),
      "oci:Core/routeTable:RouteTable",
      "oci:Core/routeTable:RouteTable",
      "oci:Core/securityList:SecurityList",
      "oci:Core/subnet:Subnet",
      "oci:Core/subnet:Subnet",
      "oci:Core/vcn:Vcn",
    ]);
    expect(custom(r).filter((x) => x.parent !== "yquant:network:Network::t")).toEqual([]);
    expect(r.outputs).toEqual({ gate: "t-gate-subnet-id", engine: "t-engine-subnet-id", publicIps: false });
  });

  it("opens exactly these NSG rules", async () => {
    const r = await build(() => ({ id: new Network("t", args).vcnId }));
    const rules = custom(r)
      .filter((x) => x.type === "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule")
      .map((x) => String(x.inputs["description"]))
      .sort();
    expect(rules).toEqual(
      [
        "live HTTP from anywhere",
        "live HTTPS from anywhere",
        `SSH from admin ${ADMIN_CIDR}`,
        `staging from admin ${ADMIN_CIDR}`,
        `stats from admin ${ADMIN_CIDR}`,
        "Valkey/Sentinel 6379 from engines",
        "Valkey/Sentinel 26379 from engines",
        "app from the gate",
        "SSH from the gate (jump host)",
        "Valkey/Sentinel 6379 from the gate",
        "Valkey/Sentinel 6379 between engines",
        "Valkey/Sentinel 26379 from the gate",
        "Valkey/Sentinel 26379 between engines",
        "message replica 6380 from engines",
        // Monitoring (docs/monitoring.md): scrapes and Alertmanager's cluster, from the engines only.
        "monitoring alertmanager 9093/tcp from engines",
        "monitoring alertmanager-gossip 9094/tcp from engines",
        "monitoring alertmanager-gossip 9094/udp from engines",
        "monitoring haproxy-metrics 8404/tcp from engines",
        "monitoring node-exporter 9100/tcp from engines",
        "monitoring node-exporter 9100/tcp from engines",
        "monitoring prometheus 9090/tcp from engines",
      ].sort(),
    );
  });

  it("opens the gate's message replica port to the engines' NSG only, TCP, stateful", async () => {
    const r = await build(() => ({ id: new Network("t", args).vcnId }));
    const rule = custom(r).filter(
      (x) =>
        x.type === "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule" &&
        x.inputs["description"] === "message replica 6380 from engines",
    );
    expect(rule.map((x) => [x.name, x.inputs])).toEqual([
      [
        "t-gate-6380-from-engine",
        {
          networkSecurityGroupId: "t-gate-nsg-id",
          direction: "INGRESS",
          protocol: "6",
          stateless: false,
          description: "message replica 6380 from engines",
          source: "t-engine-nsg-id",
          sourceType: "NETWORK_SECURITY_GROUP",
          tcpOptions: { destinationPortRange: { min: 6380, max: 6380 } },
        },
      ],
    ]);
  });

  it("without NAT: no NAT gateway, one route table, public engine IPs", async () => {
    const r = await build(() => ({
      publicIps: new Network("t", { ...args, natGateway: false }).enginePublicIps,
    }));
    expect([
      names(r, "oci:Core/natGateway:NatGateway"),
      names(r, "oci:Core/routeTable:RouteTable").length,
    ]).toEqual([[], 1]);
    expect(r.outputs).toEqual({ publicIps: true });
  });
});

describe("GateAddress", () => {
  it("reserves one public IP on the gate's primary private IP, found through its primary VNIC", async () => {
    const r = await build(() => {
      const address = new GateAddress("t-gate", { compartmentId: COMPARTMENT, instanceId: "gate-instance" });
      return { ip: address.publicIp, privateIpId: address.privateIpId };
    });
    const [publicIp, ...others] = custom(r);
    expect(others).toEqual([]);
    expect([publicIp?.type, publicIp?.name, publicIp?.inputs]).toEqual([
      "oci:Core/publicIp:PublicIp",
      "t-gate-public-ip",
      {
        compartmentId: COMPARTMENT,
        lifetime: "RESERVED",
        displayName: "t-gate-public-ip",
        privateIpId: "ocid1.privateip.oc1..gateprimary",
      },
    ]);
    expect(r.invokes.map((i) => [i.token, i.inputs])).toEqual([
      [
        "oci:Core/getVnicAttachments:getVnicAttachments",
        { compartmentId: COMPARTMENT, instanceId: "gate-instance" },
      ],
      ["oci:Core/getPrivateIps:getPrivateIps", { vnicId: "ocid1.vnic.oc1..gateprimary" }],
    ]);
    expect(r.outputs).toEqual({ ip: "203.0.113.10", privateIpId: "ocid1.privateip.oc1..gateprimary" });
  });
});

describe("Release", () => {
  const args = {
    color: "green" as const,
    hostname: "yq-green",
    privateIp: "10.0.2.11",
    release: "v1.2.3",
    gateHost: "203.0.113.10",
    sshPrivateKey: SSH_PRIVATE_KEY,
    instanceId: "green-instance",
    previous: NO_PREVIOUS_DEPLOYMENT,
  };

  it("runs deploy.sh on the engine through the gate, triggered by the instance", async () => {
    const r = await build(() => ({ deployed: new Release("yq-green", args).deployed }));
    const [cmd, ...others] = custom(r);
    expect(others).toEqual([]);
    expect([cmd?.name, cmd?.inputs]).toEqual([
      "yq-green-deploy",
      {
        connection: { ...sshConnection("10.0.2.11"), proxy: sshConnection("203.0.113.10") },
        create: releaseCommand("yq-green", "v1.2.3"),
        update: releaseCommand("yq-green", "v1.2.3"),
        triggers: ["green-instance"],
      },
    ]);
    expect(r.outputs).toEqual({ deployed: "v1.2.3" });
  });

  it("refuses a bad release ref at construction, as a ResourceError naming the rule", async () => {
    const error: unknown = await build(() => ({
      x: new Release("yq-green", { ...args, release: "v1..2" }).deployed,
    })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(pulumi.ResourceError);
    expect((error as Error).message).toBe(
      `yq-green: "v1..2" is not a release ref: use 1 to 100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, without ".."`,
    );
  });
});

describe("Switch and BlueGreen", () => {
  const common = {
    gateHost: "203.0.113.10",
    sshPrivateKey: SSH_PRIVATE_KEY,
    previous: NO_PREVIOUS_DEPLOYMENT,
  };

  it("Switch runs switch-active.sh on the gate with the drain window, triggered by the gate", async () => {
    const r = await build(() => ({
      live: new Switch("t", {
        ...common,
        activeColor: "green",
        drainSeconds: 45,
        gateInstanceId: "gate-instance",
      }).liveColor,
    }));
    const [cmd, ...others] = custom(r);
    expect(others).toEqual([]);
    expect([cmd?.name, cmd?.inputs]).toEqual([
      "t-switch-active",
      {
        connection: sshConnection("203.0.113.10"),
        create: switchCommand({ color: "green", drainSeconds: 45, messageMasterFollowsActive: true }),
        update: switchCommand({ color: "green", drainSeconds: 45, messageMasterFollowsActive: true }),
        triggers: ["gate-instance"],
      },
    ]);
    expect(r.outputs).toEqual({ live: "green" });
  });

  it("BlueGreen: one release per color, the switch after both", async () => {
    const r = await build(() => {
      const bg = new BlueGreen("t", {
        ...common,
        activeColor: "blue",
        releases: { blue: "v1", green: "v2" },
        enginePrivateIps: { blue: "10.0.2.10", green: "10.0.2.11" },
        instanceIds: { gate: "gate-instance", blue: "blue-instance", green: "green-instance" },
      });
      return { live: bg.liveColor, deployed: bg.deployedReleases };
    });
    expect(
      custom(r)
        .map((x) => x.name)
        .sort(),
    ).toEqual(["t-switch-active", "yq-blue-deploy", "yq-green-deploy"]);
    const switchCmd = r.resources.find((x) => x.name === "t-switch-active");
    expect(switchCmd?.dependsOn).toEqual([
      "yquant:pipeline:Release::yq-blue",
      "yquant:pipeline:Release::yq-green",
    ]);
    expect(r.outputs).toEqual({ live: "blue", deployed: { blue: "v1", green: "v2" } });
  });
});
