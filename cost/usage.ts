/**
 * The cost model's view of a layout: one instance per node of the topology, sized by its role's
 * `sizing`, plus the reserved public IPs, the NAT gateway and the token volume. config/ calls it once the shapes are
 * validated, so a layout beyond the Always Free allowance is refused before anything is created.
 */
import { NodeName, TOPOLOGY, Topology, roleOf } from "../cloud-init/topology";
import { InstanceUsage, LayoutUsage } from "./free-tier";
import { TOKEN_VOLUME } from "../cloud-init/token-volume";

/** The sizes the configuration sets, per role sizing (gate OCPUs and memory follow its fixed shape). */
export interface LayoutSizing {
  readonly gateShape: string;
  readonly gateOcpus: number;
  readonly gateMemoryGbs: number;
  readonly engineShape: string;
  readonly engineOcpus: number;
  readonly engineMemoryGbs: number;
  readonly bootVolumeSizeGbs: number;
  readonly natGateway: boolean;
}

export function layoutUsage(config: LayoutSizing, topology: Topology = TOPOLOGY): LayoutUsage {
  const sizes = {
    gate: { shape: config.gateShape, ocpus: config.gateOcpus, memoryGbs: config.gateMemoryGbs },
    engine: { shape: config.engineShape, ocpus: config.engineOcpus, memoryGbs: config.engineMemoryGbs },
  };
  const instance = (node: NodeName): InstanceUsage => ({
    node,
    ...sizes[roleOf(topology, node).sizing],
    bootVolumeGbs: config.bootVolumeSizeGbs,
  });
  return {
    instances: topology.nodes.map((n) => instance(n.name)),
    reservedPublicIps: topology.nodes.filter((n) => roleOf(topology, n.name).publicIp === "reserved").length,
    natGateways: config.natGateway ? 1 : 0,
    // The token Valkey's own volume (components/token-volume.ts), one per token node.
    blockVolumeGbs:
      TOKEN_VOLUME.sizeGbs * topology.nodes.filter((n) => roleOf(topology, n.name).valkey === "token").length,
  };
}
