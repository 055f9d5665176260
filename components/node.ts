/**
 * Node: one VM of the layout, with a pinned private IP, a fixed fault domain, IMDSv2 only, and user
 * data from cloud-init/. Once created, neither a newer "latest" image nor a changed user data
 * replaces it: both are in `ignoreChanges`. Rebuilding a VM is an explicit act: with
 * `rebuildGeneration` set, a change of that number replaces the instance.
 *
 * Why a rebuildable node does not ignore `metadata`: Pulumi applies `ignoreChanges` by putting the
 * OLD recorded value of an ignored property into the new inputs, and that holds for a replacement
 * too, so an ignored `metadata` would re-create the instance with its old cloud-init. Such a node
 * therefore chooses the value itself: `keptMetadata` (the metadata recorded at its last creation,
 * bluegreen/rebuild.ts) while it stands, the current one when it is created or rebuilt. The image
 * likewise: `keptImageId` (the running instance's own image) while it stands, so a newer image from
 * the lookup never reboots it, and the current image when it is created or rebuilt.
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { encodeUserData } from "../cloud-init/user-data";

/** OCI forces replacement on `metadata`, and an image change rebuilds the boot volume: ignore both. */
export const NODE_IGNORE_CHANGES: readonly string[] = ["metadata", "sourceDetails.sourceId"];

/** The freeform tag that carries a node's rebuild generation; a change of it replaces the instance. */
export const REBUILD_TAG = "yquant-rebuild";
/** The property path whose change replaces a rebuildable instance. */
export const REBUILD_REPLACE_PATH = `freeformTags["${REBUILD_TAG}"]`;

/** An instance's launch metadata (`ssh_authorized_keys`, `user_data` gzipped then base64), as OCI takes it. */
export type InstanceMetadata = Readonly<Record<string, string>>;

/** The launch metadata of `userData` (plain `#cloud-config` text) and the SSH key line(s). */
export function launchMetadata(userData: string, sshPublicKey: string): InstanceMetadata {
  return {
    ssh_authorized_keys: sshPublicKey,
    user_data: encodeUserData(userData),
  };
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
  readonly shape: pulumi.Input<string>;
  /** OCPUs of a flexible shape. Default: none (fixed shapes take no shapeConfig). */
  readonly ocpus?: pulumi.Input<number>;
  /** Memory in GB of a flexible shape. Default: none (fixed shapes take no shapeConfig). */
  readonly memoryGbs?: pulumi.Input<number>;
  /** Image OCID of the boot volume. Required, no default. */
  readonly imageId: pulumi.Input<string>;
  /** Boot volume size in GB (config key bootVolumeSizeGbs, whose schema holds the default). */
  readonly bootVolumeSizeGbs: number;
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
  /**
   * The rebuild counter: set, the instance carries it in the freeform tag `yquant-rebuild` and is
   * replaced when it changes, and `metadata` leaves `ignoreChanges` (see the header). Default: none
   * (never rebuilt by a counter).
   */
  readonly rebuildGeneration?: number;
  /**
   * With `rebuildGeneration`: the launch metadata to keep (recorded at the last creation), or
   * undefined to launch with the current `userData`. Default: undefined.
   */
  readonly keptMetadata?: pulumi.Input<InstanceMetadata | undefined>;
  /**
   * With `rebuildGeneration`: the image the running instance has (to keep it while it stands), or
   * undefined to launch from `imageId` (created or rebuilt: the current image). Default: undefined.
   */
  readonly keptImageId?: pulumi.Input<string | undefined>;
}

export class Node extends pulumi.ComponentResource {
  public readonly instanceId: pulumi.Output<string>;
  public readonly privateIp: pulumi.Output<string>;
  public readonly publicIp: pulumi.Output<string>;
  /** The metadata the instance is launched with (secret). */
  public readonly launchMetadata: pulumi.Output<InstanceMetadata>;

  constructor(name: string, args: NodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:compute:Node", name, {}, opts);
    const rebuildable = args.rebuildGeneration !== undefined;
    // Secret: user data carries the Valkey and Sentinel passwords.
    const current = pulumi
      .output(args.userData)
      .apply((userData) => launchMetadata(userData, args.sshPublicKey));
    const metadata = pulumi.secret(
      rebuildable ? pulumi.all([current, args.keptMetadata]).apply(([now, kept]) => kept ?? now) : current,
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
          sourceId: rebuildable
            ? pulumi.all([args.imageId, args.keptImageId]).apply(([now, kept]) => kept ?? now)
            : args.imageId,
          bootVolumeSizeInGbs: String(args.bootVolumeSizeGbs),
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
        ...(rebuildable ? { freeformTags: { [REBUILD_TAG]: String(args.rebuildGeneration) } } : {}),
      },
      {
        parent: this,
        // A rebuildable node chooses its metadata and image itself (see the header): nothing ignored.
        ignoreChanges: rebuildable ? [] : [...NODE_IGNORE_CHANGES],
        ...(rebuildable ? { replaceOnChanges: [REBUILD_REPLACE_PATH] } : {}),
        // The private IP is pinned, so a replacement cannot exist beside the old VM.
        deleteBeforeReplace: true,
      },
    );

    this.instanceId = instance.id;
    this.privateIp = instance.privateIp;
    this.publicIp = instance.publicIp;
    this.launchMetadata = metadata;
    this.registerOutputs({ instanceId: this.instanceId, privateIp: this.privateIp, publicIp: this.publicIp });
  }
}
