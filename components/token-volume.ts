/**
 * TokenVolume: the token store's own block volume (cloud-init/token-volume.ts), attached to the node
 * that holds the token Valkey, with a backup policy.
 *
 * - The volume depends on nothing the gate's replacement changes (compartment, availability domain,
 *   size), so a gate rebuild (`rebuild.gate`) replaces only the attachment. `protect` refuses any plan
 *   that would delete or replace it, and `retainOnDelete` keeps it even when the stack is destroyed.
 * - The attachment is paravirtualized (no iSCSI login on the node); it is created once the instance
 *   exists, so setup.sh waits for the disk at first boot, then mounts it by label.
 * - Backups: Always Free includes five volume backups in total. The policy takes one incremental
 *   backup a week, kept 21 days (at most 3 at a time, leaving room for a manual one before a rebuild).
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { TOKEN_VOLUME } from "../cloud-init/token-volume";

/** The backup schedule: weekly incremental, kept 21 days. */
export const TOKEN_BACKUP_SCHEDULE = {
  backupType: "INCREMENTAL",
  period: "ONE_WEEK",
  dayOfWeek: "SUNDAY",
  hourOfDay: 3,
  offsetType: "STRUCTURED",
  retentionSeconds: 21 * 24 * 3600,
  timeZone: "UTC",
} as const;

export interface TokenVolumeArgs {
  /** Compartment OCID. Required, no default. */
  readonly compartmentId: pulumi.Input<string>;
  /** Availability domain of the instance (a volume attaches only within its own). Required. */
  readonly availabilityDomain: pulumi.Input<string>;
  /** The instance the volume is attached to (the gate). Required, no default. */
  readonly instanceId: pulumi.Input<string>;
  /** Display name prefix, e.g. yq-gate. Required, no default. */
  readonly hostname: string;
}

export class TokenVolume extends pulumi.ComponentResource {
  public readonly volumeId: pulumi.Output<string>;
  public readonly attachmentId: pulumi.Output<string>;

  constructor(name: string, args: TokenVolumeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:storage:TokenVolume", name, {}, opts);
    const volume = new oci.core.Volume(
      `${name}-tokens`,
      {
        compartmentId: args.compartmentId,
        availabilityDomain: args.availabilityDomain,
        displayName: `${args.hostname}-tokens`,
        sizeInGbs: String(TOKEN_VOLUME.sizeGbs),
      },
      { parent: this, protect: true, retainOnDelete: true },
    );
    const policy = new oci.core.VolumeBackupPolicy(
      `${name}-tokens-backup`,
      {
        compartmentId: args.compartmentId,
        displayName: `${args.hostname}-tokens-weekly`,
        schedules: [{ ...TOKEN_BACKUP_SCHEDULE }],
      },
      { parent: this },
    );
    new oci.core.VolumeBackupPolicyAssignment(
      `${name}-tokens-backup`,
      { assetId: volume.id, policyId: policy.id },
      // OCI takes one policy per volume: a replacement must delete the old assignment first.
      { parent: this, deleteBeforeReplace: true },
    );
    const attachment = new oci.core.VolumeAttachment(
      `${name}-tokens-attachment`,
      {
        attachmentType: "paravirtualized",
        instanceId: args.instanceId,
        volumeId: volume.id,
        displayName: `${args.hostname}-tokens`,
      },
      // The instance is replaced delete-before-create (pinned IP): so is what attaches to it.
      { parent: this, deleteBeforeReplace: true },
    );
    this.volumeId = volume.id;
    this.attachmentId = attachment.id;
    this.registerOutputs({ volumeId: this.volumeId, attachmentId: this.attachmentId });
  }
}
