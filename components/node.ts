/**
 * Node: one VM of the layout (the gate or an engine), with a pinned private IP, a fixed fault domain,
 * IMDSv2 only, and user data from cloud-init/. Once created, neither a newer "latest" image nor a
 * changed user data replaces it: both are in `ignoreChanges`. Rebuilding a VM is an explicit act.
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";

/** OCI forces replacement on `metadata`, and an image change rebuilds the boot volume: ignore both. */
export const NODE_IGNORE_CHANGES: readonly string[] = ["metadata", "sourceDetails.sourceId"];

export const UBUNTU_OPERATING_SYSTEM = "Canonical Ubuntu";
export const UBUNTU_VERSION = "24.04";

/**
 * The newest Canonical Ubuntu 24.04 platform image for `shape` (aarch64 for A1, x86_64 for E2): the
 * image list is filtered by shape, so the architecture follows the shape.
 */
export function ubuntuImageId(
  compartmentId: pulumi.Input<string>,
  shape: string,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<string> {
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
      opts,
    )
    .images.apply((images) => {
      const image = images[0];
      if (!image) {
        throw new Error(
          `No ${UBUNTU_OPERATING_SYSTEM} ${UBUNTU_VERSION} image is available for ${shape}; ` +
            "pin one with yquant:gateImageId or yquant:engineImageId",
        );
      }
      return image.id;
    });
}

/** The name of availability domain `index` (0-based) of the tenancy, as `getAvailabilityDomains` lists them. */
export function availabilityDomainName(
  compartmentId: pulumi.Input<string>,
  index: number,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<string> {
  return oci.identity
    .getAvailabilityDomainsOutput({ compartmentId }, opts)
    .availabilityDomains.apply((domains) => {
      const domain = domains[index];
      if (!domain) {
        throw new Error(
          `yquant:availabilityDomainIndex: ${index} is out of range. Allowed: an integer from 0 to ${domains.length - 1}.`,
        );
      }
      return domain.name;
    });
}

export interface NodeArgs {
  /** Compartment OCID. Required, no default. */
  readonly compartmentId: pulumi.Input<string>;
  /** Availability domain name. Required, no default. */
  readonly availabilityDomain: pulumi.Input<string>;
  /** Fault domain, e.g. FAULT-DOMAIN-1. Required, no default (each node gets its own). */
  readonly faultDomain: string;
  /** Display name and hostname label, e.g. yq-gate. Required, no default. */
  readonly hostname: string;
  /** Instance shape. Required, no default. */
  readonly shape: string;
  /** OCPUs of a flexible shape. Default: none (fixed shapes take no shapeConfig). */
  readonly ocpus?: number;
  /** Memory in GB of a flexible shape. Default: none (fixed shapes take no shapeConfig). */
  readonly memoryGbs?: number;
  /** Image OCID of the boot volume. Required, no default. */
  readonly imageId: pulumi.Input<string>;
  /** Boot volume size in GB. Default 50. */
  readonly bootVolumeSizeGbs?: number;
  /** Subnet of the primary VNIC. Required, no default. */
  readonly subnetId: pulumi.Input<string>;
  /** NSGs of the primary VNIC. Default: none. */
  readonly nsgIds?: pulumi.Input<string>[];
  /** The pinned private address of the primary VNIC. Required, no default. */
  readonly privateIp: string;
  /** Whether the VNIC gets an ephemeral public IP. Default false. */
  readonly assignPublicIp?: boolean;
  /** The `#cloud-config` text (plain, not base64); treated as a secret. Required, no default. */
  readonly userData: pulumi.Input<string>;
  /** OpenSSH public key line(s) for the `ubuntu` user. Required, no default. */
  readonly sshPublicKey: string;
}

export class Node extends pulumi.ComponentResource {
  public readonly instanceId: pulumi.Output<string>;
  public readonly privateIp: pulumi.Output<string>;
  public readonly publicIp: pulumi.Output<string>;

  constructor(name: string, args: NodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:compute:Node", name, {}, opts);
    // Secret: user data carries the Valkey and Sentinel passwords.
    const metadata = pulumi.secret(
      pulumi.output(args.userData).apply((userData) => ({
        ssh_authorized_keys: args.sshPublicKey,
        user_data: Buffer.from(userData, "utf8").toString("base64"),
      })),
    );
    const flex = args.ocpus !== undefined || args.memoryGbs !== undefined;
    const instance = new oci.core.Instance(
      `${name}-instance`,
      {
        compartmentId: args.compartmentId,
        availabilityDomain: args.availabilityDomain,
        faultDomain: args.faultDomain,
        displayName: args.hostname,
        shape: args.shape,
        ...(flex ? { shapeConfig: { ocpus: args.ocpus, memoryInGbs: args.memoryGbs } } : {}),
        sourceDetails: {
          sourceType: "image",
          sourceId: args.imageId,
          bootVolumeSizeInGbs: String(args.bootVolumeSizeGbs ?? 50),
        },
        createVnicDetails: {
          subnetId: args.subnetId,
          privateIp: args.privateIp,
          hostnameLabel: args.hostname,
          displayName: `${args.hostname}-vnic`,
          assignPublicIp: String(args.assignPublicIp ?? false),
          assignPrivateDnsRecord: true,
          nsgIds: args.nsgIds ?? [],
        },
        instanceOptions: { areLegacyImdsEndpointsDisabled: true },
        preserveBootVolume: false,
        metadata,
      },
      {
        parent: this,
        ignoreChanges: [...NODE_IGNORE_CHANGES],
        // The private IP is pinned, so a replacement cannot exist beside the old VM.
        deleteBeforeReplace: true,
      },
    );

    this.instanceId = instance.id;
    this.privateIp = instance.privateIp;
    this.publicIp = instance.publicIp;
    this.registerOutputs({ instanceId: this.instanceId, privateIp: this.privateIp, publicIp: this.publicIp });
  }
}
