/**
 * yQuant on OCI: the gate (HAProxy, token Valkey, Sentinel) and the engines blue and green (app,
 * message Valkey, Sentinel). Configuration is read and validated first, so bad input creates nothing.
 * `activeColor` feeds only the switch command and the outputs: no instance, VNIC, volume or network
 * input reads it.
 */
import * as pulumi from "@pulumi/pulumi";
import { HOSTNAMES, NodeName } from "./cloud-init/layout";
import { renderUserData } from "./cloud-init/user-data";
import { BlueGreen } from "./bluegreen/blue-green";
import { GateAddress } from "./components/gate-address";
import { DeploymentHistory } from "./bluegreen/history";
import { Network } from "./components/network";
import { Node, availabilityDomainName, ubuntuImageId } from "./components/node";
import { engineRebuilds, rebuildRecords } from "./bluegreen/rebuild";
import { Secrets } from "./components/secrets";
import { loadConfig } from "./config";
import { buildCloudLayout, sentinelAddresses } from "./stack-layout";

const config = loadConfig();

// Blue-green pipeline (docs/runbooks/deploy.md): this stack's own last outputs guard releases and
// rebuilds; an engine's rebuild counter replaces only that engine, from the current cloud-init.
const history = new DeploymentHistory("yq");
const previous = history.guarded(config);
const rebuilds = engineRebuilds(config, previous, history.engineMetadata);

const secrets = new Secrets("yq", {
  valkeyPassword: config.valkeyPassword,
  sentinelPassword: config.sentinelPassword,
  tlsPem: config.tlsPem,
});

const network = new Network("yq", {
  compartmentId: config.compartmentId,
  vcnCidr: config.vcnCidr,
  gateSubnetCidr: config.gateSubnetCidr,
  engineSubnetCidr: config.engineSubnetCidr,
  adminCidrs: config.adminCidrs,
  natGateway: config.natGateway,
});

/** One image lookup per shape; a pinned image ID skips it. */
const imagesByShape = new Map<string, pulumi.Output<string>>();
function imageFor(shape: string, pinned: string): pulumi.Output<string> {
  if (pinned !== "") return pulumi.output(pinned);
  const known = imagesByShape.get(shape);
  if (known) return known;
  const looked = ubuntuImageId(config.compartmentId, shape);
  imagesByShape.set(shape, looked);
  return looked;
}

const availabilityDomain = availabilityDomainName(config.compartmentId, config.availabilityDomainIndex);

/** The node's `#cloud-config`, rendered once the secret values resolve. */
function userData(node: NodeName): pulumi.Output<string> {
  return pulumi
    .all([secrets.valkeyPassword, secrets.sentinelPassword, secrets.tlsPem])
    .apply(([valkeyPassword, sentinelPassword, tlsPem]) =>
      renderUserData(buildCloudLayout(config, { valkeyPassword, sentinelPassword, tlsPem }), node),
    );
}

const FAULT_DOMAINS: Readonly<Record<NodeName, string>> = {
  gate: "FAULT-DOMAIN-1",
  blue: "FAULT-DOMAIN-2",
  green: "FAULT-DOMAIN-3",
};

function node(name: NodeName): Node {
  const engine = name !== "gate";
  return new Node(
    HOSTNAMES[name],
    {
      compartmentId: config.compartmentId,
      availabilityDomain,
      faultDomain: FAULT_DOMAINS[name],
      hostname: HOSTNAMES[name],
      shape: engine ? config.engineShape : config.gateShape,
      ...(engine ? { ocpus: config.engineOcpus, memoryGbs: config.engineMemoryGbs } : {}),
      imageId: engine
        ? imageFor(config.engineShape, config.engineImageId)
        : imageFor(config.gateShape, config.gateImageId),
      bootVolumeSizeGbs: config.bootVolumeSizeGbs,
      subnetId: engine ? network.engineSubnetId : network.gateSubnetId,
      nsgIds: [engine ? network.engineNsgId : network.gateNsgId],
      privateIp: config.privateIps[name],
      // The gate's public address is the reserved one below; engines get one only without NAT.
      assignPublicIp: engine && network.enginePublicIps,
      userData: userData(name),
      sshPublicKey: config.sshPublicKey,
    },
    name === "gate" ? undefined : { transformations: [rebuilds[name].transformation] },
  );
}

const nodes = { gate: node("gate"), blue: node("blue"), green: node("green") };

const gateAddress = new GateAddress("yq-gate", {
  compartmentId: config.compartmentId,
  instanceId: nodes.gate.instanceId,
});

const pipeline = new BlueGreen("yq", {
  ...config,
  enginePrivateIps: config.privateIps,
  instanceIds: { gate: nodes.gate.instanceId, blue: nodes.blue.instanceId, green: nodes.green.instanceId },
  gateHost: gateAddress.publicIp,
  sshPrivateKey: pulumi.secret(config.sshPrivateKey.reveal()),
  previous,
});
const records = rebuildRecords(config, rebuilds, {
  blue: nodes.blue.instanceId,
  green: nodes.green.instanceId,
});

export const activeColor = config.activeColor;
export const standbyColor = config.standbyColor;
export const gatePublicIp = gateAddress.publicIp;
export const liveUrl = pulumi.interpolate`http://${gateAddress.publicIp}/`;
export const stagingUrl = pulumi.interpolate`http://${gateAddress.publicIp}:8080/`;
export const privateIps = { ...config.privateIps };
export const instanceIds = {
  gate: nodes.gate.instanceId,
  blue: nodes.blue.instanceId,
  green: nodes.green.instanceId,
};
export const sentinels = sentinelAddresses(config);
export const costEstimate = {
  monthlyUsd: config.costEstimate.monthlyUsd,
  monthlyUsdWithoutFreeTier: config.costEstimate.monthlyUsdWithoutFreeTier,
  withinFreeTier: config.costEstimate.withinFreeTier,
  overages: [...config.costEstimate.overages],
};
// Read back by the next update (bluegreen/history.ts); each resolves once its step succeeded.
export const liveColor = pipeline.liveColor;
export const deployedReleases = pipeline.deployedReleases;
export const rebuildGenerations = records.rebuildGenerations;
export const engineMetadata = records.engineMetadata;
