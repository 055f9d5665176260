/**
 * The stack's program, as a function of the topology table (cloud-init/topology.ts): index.ts runs it
 * with the stack's table and exports what it returns; the mock runtime (tools/preview) and the tests
 * call it directly, with another table too. Configuration is read and validated first, so bad input
 * creates nothing. `activeColor` feeds only the switch command and the outputs: no instance, VNIC,
 * volume or network input reads it.
 */
import * as pulumi from "@pulumi/pulumi";
import { TOPOLOGY, Topology, gateNode, nodeSpec } from "./cloud-init/layout";
import { BlueGreen } from "./bluegreen/blue-green";
import { DeploymentHistory } from "./bluegreen/history";
import { engineRebuilds, rebuildRecords } from "./bluegreen/rebuild";
import { GATE_OUTPUTS, gateRebuild, gateRebuildRefusal } from "./bluegreen/gate-rebuild";
import { TokenVolume } from "./components/token-volume";
import { GateAddress } from "./components/gate-address";
import { Network } from "./components/network";
import { Convergence } from "./components/converge";
import { Nodes } from "./components/nodes";
import {
  EngineSizing,
  PLACEMENT_OUTPUTS,
  Placement,
  engineSizingFor,
  pendingResizeNote,
  placementFromOutput,
  placementRefusals,
  sizingFromOutput,
} from "./bluegreen/placement";
import { COLORS, Color } from "./cloud-init/layout";
import { Secrets } from "./components/secrets";
import { loadConfig } from "./config";
import { buildCloudLayout, sentinelAddresses } from "./stack-layout";

export function yquantStack(topology: Topology = TOPOLOGY) {
  const config = loadConfig(topology);
  // Blue-green pipeline (docs/runbooks/deploy.md): this stack's own last outputs guard releases and
  // rebuilds; an engine's rebuild counter replaces only that engine, from the current cloud-init.
  const history = new DeploymentHistory("yq");
  // Placement changes that would replace nodes in one update are refused before anything is
  // registered: everything below waits for this check (bluegreen/placement.ts).
  const placement: Placement = {
    natGateway: config.natGateway,
    availabilityDomainIndex: config.availabilityDomainIndex,
  };
  const recordedGateGeneration = history.recorded(GATE_OUTPUTS.generation);
  const previous = pulumi
    .all([history.guarded(config), history.recorded(PLACEMENT_OUTPUTS.placement), recordedGateGeneration])
    .apply(([guarded, recorded, gateGeneration]) => {
      const refusals = placementRefusals(placementFromOutput(recorded), placement);
      const gateRefusal = gateRebuildRefusal(
        guarded,
        gateGeneration,
        config.gateRebuild,
        config.acceptGateOutage,
      );
      if (gateRefusal) refusals.push(gateRefusal);
      if (refusals.length > 0) throw new pulumi.ResourceError(refusals.join("\n"), history);
      return guarded;
    });
  const secrets = new Secrets("yq", {
    valkeyPassword: config.valkeyPassword,
    sentinelPassword: config.sentinelPassword,
    tlsPem: config.tlsPem,
  });
  const network = new Network("yq", {
    compartmentId: previous.apply(() => config.compartmentId),
    vcnCidr: config.vcnCidr,
    gateSubnetCidr: config.gateSubnetCidr,
    engineSubnetCidr: config.engineSubnetCidr,
    adminCidrs: config.adminCidrs,
    natGateway: config.natGateway,
  });
  // One Layout for every node, rendered once the secret values resolve.
  const layout = pulumi
    .all([secrets.valkeyPassword, secrets.sentinelPassword, secrets.tlsPem, secrets.users])
    .apply(([valkeyPassword, sentinelPassword, tlsPem, users]) =>
      buildCloudLayout(config, { valkeyPassword, sentinelPassword, tlsPem, users }, topology),
    );
  const gate = gateNode(topology);
  const rebuilds = {
    ...engineRebuilds(config, previous, history.engineMetadata, history.recorded("instanceIds"), history),
    // rebuild.gate (bluegreen/gate-rebuild.ts): refused above unless the outage is accepted.
    [gate]: gateRebuild(
      config.gateRebuild,
      previous,
      recordedGateGeneration,
      pulumi.secret(history.recorded(GATE_OUTPUTS.metadata)),
      history.recorded("instanceIds"),
      gate,
      history,
    ),
  };
  // A resize reboots: only the engine that is the standby before and after this update gets it.
  const wantedSizing: EngineSizing = {
    shape: config.engineShape,
    ocpus: config.engineOcpus,
    memoryGbs: config.engineMemoryGbs,
  };
  const recordedSizing = history.recorded(PLACEMENT_OUTPUTS.engineSizing);
  const sizing = Object.fromEntries(
    COLORS.map((color) => [
      color,
      pulumi.all([previous, recordedSizing]).apply(([last, recorded]) => {
        const args = [
          sizingFromOutput(recorded),
          wantedSizing,
          last.liveColor,
          config.activeColor,
          color,
        ] as const;
        const note = pendingResizeNote(...args);
        if (note) void pulumi.log.warn(note);
        return engineSizingFor(...args);
      }),
    ]),
  ) as Record<Color, pulumi.Output<EngineSizing>>;
  const { nodes, instanceIds, availabilityDomain } = new Nodes("yq", {
    topology,
    compartmentId: config.compartmentId,
    availabilityDomainIndex: config.availabilityDomainIndex,
    sizes: {
      gate: { shape: config.gateShape, imageId: config.gateImageId },
      engine: {
        shape: config.engineShape,
        ocpus: config.engineOcpus,
        memoryGbs: config.engineMemoryGbs,
        imageId: config.engineImageId,
      },
    },
    bootVolumeSizeGbs: config.bootVolumeSizeGbs,
    subnetIds: { gate: network.gateSubnetId, engine: network.engineSubnetId },
    nsgIds: { gate: network.gateNsgId, engine: network.engineNsgId },
    privateIps: config.privateIps,
    publicIpsWithoutNat: network.enginePublicIps,
    layout,
    sshPublicKey: config.sshPublicKey,
    rebuilds,
    sizing,
  });
  // The token Valkey's data: its own volume, kept when the gate is replaced (components/token-volume.ts).
  const tokenVolume = new TokenVolume(`yq-${gate}`, {
    // Waits for the update's checks, like the network: a refused update registers none of it.
    compartmentId: previous.apply(() => config.compartmentId),
    availabilityDomain,
    instanceId: instanceIds[gate],
    hostname: nodeSpec(topology, gate).hostname,
  });
  const gateAddress = new GateAddress(`yq-${gate}`, {
    compartmentId: config.compartmentId,
    instanceId: instanceIds[gate],
  });
  const pipeline = new BlueGreen("yq", {
    activeColor: config.activeColor,
    releases: config.releases,
    enginePrivateIps: { blue: config.privateIps.blue, green: config.privateIps.green },
    instanceIds: { gate: instanceIds[gate], blue: instanceIds.blue, green: instanceIds.green },
    drainSeconds: config.drainSeconds,
    messageMasterFollowsActive: config.messageMasterFollowsActive,
    gateHost: gateAddress.publicIp,
    sshPrivateKey: pulumi.secret(config.sshPrivateKey.reveal()),
    previous,
  });
  // Every rendered file reaches the running nodes in place (standby engine, active engine, gate).
  new Convergence("yq", {
    topology,
    layout,
    sshPublicKey: config.sshPublicKey,
    activeColor: config.activeColor,
    gateHost: gateAddress.publicIp,
    privateIps: config.privateIps,
    instanceIds,
    sshPrivateKey: pulumi.secret(config.sshPrivateKey.reveal()),
  });
  const records = rebuildRecords(config, { blue: nodes.blue, green: nodes.green });
  return {
    activeColor: config.activeColor,
    standbyColor: config.standbyColor,
    gatePublicIp: gateAddress.publicIp,
    liveUrl: pulumi.interpolate`http://${gateAddress.publicIp}/`,
    stagingUrl: pulumi.interpolate`http://${gateAddress.publicIp}:8080/`,
    privateIps: { ...config.privateIps },
    instanceIds: { ...instanceIds },
    sentinels: sentinelAddresses(config, topology),
    costEstimate: {
      monthlyUsd: config.costEstimate.monthlyUsd,
      monthlyUsdWithoutFreeTier: config.costEstimate.monthlyUsdWithoutFreeTier,
      withinFreeTier: config.costEstimate.withinFreeTier,
      overages: [...config.costEstimate.overages],
    },
    // Read back by the next update (bluegreen/history.ts); each resolves once its step succeeded.
    liveColor: pipeline.liveColor,
    deployedReleases: pipeline.deployedReleases,
    rebuildGenerations: records.rebuildGenerations,
    engineMetadata: records.engineMetadata,
    gateRebuildGeneration: pulumi.all([instanceIds[gate]]).apply(() => config.gateRebuild),
    gateMetadata: pulumi.secret(
      pulumi.all([instanceIds[gate], nodes[gate].launchMetadata]).apply(([, m]) => m),
    ),
    tokenVolumeId: tokenVolume.volumeId,
    // Recorded once every node exists, for the next update's placement check.
    placement: pulumi.all(Object.values(instanceIds)).apply(() => placement),
    engineSizing: pulumi
      .all([instanceIds.blue, instanceIds.green, sizing.blue, sizing.green])
      .apply(([, , blue, green]) => ({ blue, green })),
  };
}
