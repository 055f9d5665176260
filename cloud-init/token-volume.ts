/**
 * The token store's own block volume (components/token-volume.ts): the token Valkey's `dir` lives on
 * it, so the tokens outlive the gate's boot volume (a gate rebuild, `rebuild.gate`, replaces the
 * instance and its boot volume; the volume is kept and attached to the new instance). setup.sh
 * mounts it by filesystem label, and formats it only when it is blank (no filesystem, no partition
 * table, exactly this size): an existing filesystem is never reformatted.
 *
 * Always Free has 200 GB of block storage in total (boot and block volumes together): three 50 GB
 * boot volumes leave 50 GB, and 50 GB is also OCI's smallest block volume.
 */

export const TOKEN_VOLUME = {
  /** ext4 label setup.sh mounts by (and gives a blank volume). */
  label: "yq-tokens",
  /** Mount point on the node holding the token Valkey. */
  mount: "/srv/yquant-tokens",
  /** Size in GB: OCI's minimum, and what Always Free leaves beside three 50 GB boot volumes. */
  sizeGbs: 50,
} as const;

/** The token Valkey's `dir` (a directory of the volume, so lost+found stays out of it). */
export const TOKEN_DATA_DIR = `${TOKEN_VOLUME.mount}/valkey`;
