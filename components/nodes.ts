/**
 * Nodes: one Node per row of the topology table (cloud-init/topology.ts), each with its role's sizing,
 * its subnet and NSG, its pinned address and fault domain, and its own user data rendered from the
 * one Layout. The image is looked up once per shape (a pinned image ID skips it) and the availability
 * domain once.
 *
 * The Nodes are children of this component; `aliases` name their former place at the stack's root,
 * so a stack created before this component existed keeps its instances (same URNs after aliasing).
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { Layout, NodeName, SubnetName, Topology, roleOf } from "../cloud-init/layout";
import { renderUserData } from "../cloud-init/user-data";
import { InstanceMetadata, Node } from "./node";

export const UBUNTU_OPERATING_SYSTEM = "Canonical Ubuntu";
export const UBUNTU_VERSION = "24.04";

/** How the instances of one sizing (a role's `sizing`) are built. */
export interface NodeSize {
  readonly shape: string;
  /** OCPUs of a flexible shape; undefined for a fixed shape. */
  readonly ocpus?: number;
  /** Memory in GB of a flexible shape; undefined for a fixed shape. */
  readonly memoryGbs?: number;
  /** A pinned image OCID, or "" to look up the newest Canonical Ubuntu 24.04 for the shape. */
  readonly imageId: string;
}

/** A rebuildable node's counter and the launch metadata it keeps (bluegreen/rebuild.ts). */
export interface NodeRebuild {
  readonly generation: number;
  readonly keptMetadata: pulumi.Input<InstanceMetadata | undefined>;
  /** The running instance's image while it stands; undefined when it is created or rebuilt. */
  readonly keptImageId: pulumi.Input<string | undefined>;
}

/** One node's sizing in this update (a staged resize gives the engines different ones). */
export interface NodeSizing {
  readonly shape: string;
  readonly ocpus: number;
  readonly memoryGbs: number;
}

export interface NodesArgs {
  /** The nodes and roles. Required, no default. */
  readonly topology: Topology;
  /** Compartment OCID. Required, no default. */
  readonly compartmentId: string;
  /** Availability domain, 0-based, as `getAvailabilityDomains` lists them. Required, no default. */
  readonly availabilityDomainIndex: number;
  /** Shape, flex size and image per sizing. Required, no default. */
  readonly sizes: Readonly<Record<"gate" | "engine", NodeSize>>;
  /** Boot volume size in GB of every node. Required, no default. */
  readonly bootVolumeSizeGbs: number;
  /** Subnet ID per subnet name (Network). Required, no default. */
  readonly subnetIds: Readonly<Record<SubnetName, pulumi.Input<string>>>;
  /** NSG ID per subnet name (Network). Required, no default. */
  readonly nsgIds: Readonly<Record<SubnetName, pulumi.Input<string>>>;
  /** Pinned private address per node. Required, no default. */
  readonly privateIps: Readonly<Record<NodeName, string>>;
  /** Whether nodes whose role's `publicIp` is `withoutNat` get an ephemeral public IP. Required. */
  readonly publicIpsWithoutNat: boolean;
  /** The one Layout every node's user data is rendered from (secret: it holds passwords). Required. */
  readonly layout: pulumi.Input<Layout>;
  /** OpenSSH public key line(s) for the `ubuntu` user. Required, no default. */
  readonly sshPublicKey: string;
  /**
   * Rebuild counter and kept metadata per node: required for a `rebuildable` role (the engines), and
   * makes any other node given one (the gate, `rebuild.gate`) rebuildable too.
   */
  readonly rebuilds: Readonly<Record<NodeName, NodeRebuild>>;
  /**
   * Per node, the flexible sizing it gets in this update instead of its role's (bluegreen/placement.ts,
   * a staged resize). Only for nodes whose role's size is flexible. Default: none.
   */
  readonly sizing?: Readonly<Record<NodeName, pulumi.Input<NodeSizing>>>;
}

/** Shape and flex size of a node: its role's, or a staged sizing (flexible roles only). */
function sizeOf(
  size: NodeSize,
  staged: pulumi.Input<NodeSizing> | undefined,
): { shape: pulumi.Input<string>; ocpus?: pulumi.Input<number>; memoryGbs?: pulumi.Input<number> } {
  const flex = size.ocpus !== undefined || size.memoryGbs !== undefined;
  if (staged === undefined || !flex) {
    return {
      shape: size.shape,
      ...(size.ocpus !== undefined ? { ocpus: size.ocpus } : {}),
      ...(size.memoryGbs !== undefined ? { memoryGbs: size.memoryGbs } : {}),
    };
  }
  const s = pulumi.output(staged);
  return { shape: s.shape, ocpus: s.ocpus, memoryGbs: s.memoryGbs };
}

export class Nodes extends pulumi.ComponentResource {
  /** One Node per topology row, by node name. */
  public readonly nodes: Readonly<Record<NodeName, Node>>;
  public readonly instanceIds: Readonly<Record<NodeName, pulumi.Output<string>>>;
  /** The availability domain every node is in (a block volume must be in the same). */
  public readonly availabilityDomain: pulumi.Output<string>;

  constructor(name: string, args: NodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:compute:Nodes", name, {}, opts);
    const availabilityDomain = this.lookupAvailabilityDomain(
      args.compartmentId,
      args.availabilityDomainIndex,
    );
    this.availabilityDomain = availabilityDomain;
    const images = new Map<string, pulumi.Output<string>>();
    const imageFor = (size: NodeSize): pulumi.Output<string> => {
      if (size.imageId !== "") return pulumi.output(size.imageId);
      const known = images.get(size.shape) ?? this.ubuntuImageId(args.compartmentId, size.shape);
      images.set(size.shape, known);
      return known;
    };
    const nodes: Record<NodeName, Node> = {};
    for (const spec of args.topology.nodes) {
      const role = roleOf(args.topology, spec.name);
      const size = args.sizes[role.sizing];
      // A role's engines always have a counter; another node (the gate) only when one is given.
      const rebuild = args.rebuilds[spec.name];
      if (role.rebuildable && rebuild === undefined) {
        throw new pulumi.ResourceError(
          `Nodes: no rebuild counter for the rebuildable node ${spec.name}`,
          this,
        );
      }
      const userData = pulumi.output(args.layout).apply((layout) => {
        try {
          return renderUserData(layout, spec.name);
        } catch (error) {
          throw new pulumi.ResourceError(error instanceof Error ? error.message : String(error), this);
        }
      });
      nodes[spec.name] = new Node(
        `${name}-${spec.name}`,
        {
          compartmentId: args.compartmentId,
          availabilityDomain,
          faultDomain: spec.faultDomain,
          hostname: spec.hostname,
          ...sizeOf(size, args.sizing?.[spec.name]),
          imageId: imageFor(size),
          bootVolumeSizeGbs: args.bootVolumeSizeGbs,
          subnetId: args.subnetIds[spec.subnet],
          nsgIds: [args.nsgIds[spec.subnet]],
          privateIp: args.privateIps[spec.name],
          // A reserved address is bound by GateAddress; the others get one only without NAT.
          assignPublicIp: role.publicIp === "withoutNat" && args.publicIpsWithoutNat,
          userData,
          sshPublicKey: args.sshPublicKey,
          ...(rebuild
            ? {
                rebuildGeneration: rebuild.generation,
                keptMetadata: rebuild.keptMetadata,
                keptImageId: rebuild.keptImageId,
              }
            : {}),
        },
        { parent: this, aliases: [{ parent: pulumi.rootStackResource }] },
      );
    }
    this.nodes = nodes;
    this.instanceIds = Object.fromEntries(Object.entries(nodes).map(([n, node]) => [n, node.instanceId]));
    this.registerOutputs({ instanceIds: this.instanceIds });
  }

  /**
   * The newest Canonical Ubuntu 24.04 platform image for `shape` (aarch64 for A1, x86_64 for E2): the
   * image list is filtered by shape, so the architecture follows the shape.
   */
  private ubuntuImageId(compartmentId: string, shape: string): pulumi.Output<string> {
    return oci.core
      .getImagesOutput(
        {
          compartmentId,
          operatingSystem: UBUNTU_OPERATING_SYSTEM,
          operatingSystemVersion: UBUNTU_VERSION,
          shape,
          sortBy: "TIMECREATED",
          sortOrder: "DESC",
          state: "AVAILABLE",
        },
        { parent: this },
      )
      .images.apply((images) => {
        const image = images[0];
        if (!image) {
          throw new pulumi.ResourceError(
            `No ${UBUNTU_OPERATING_SYSTEM} ${UBUNTU_VERSION} image is available for ${shape}; ` +
              "pin one with yquant:gateImageId or yquant:engineImageId",
            this,
          );
        }
        return image.id;
      });
  }

  /** The name of availability domain `index` (0-based) of the tenancy. */
  private lookupAvailabilityDomain(compartmentId: string, index: number): pulumi.Output<string> {
    return oci.identity
      .getAvailabilityDomainsOutput({ compartmentId }, { parent: this })
      .availabilityDomains.apply((domains) => {
        const domain = domains[index];
        if (!domain) {
          throw new pulumi.ResourceError(
            `yquant:availabilityDomainIndex: ${index} is out of range. Allowed: an integer from 0 to ${domains.length - 1}.`,
            this,
          );
        }
        return domain.name;
      });
  }
}
