/**
 * Rebuild of the gate: the counter `yquant:rebuild.gate` becomes the gate Node's `rebuildGeneration`
 * (its freeform tag `yquant-rebuild`; a change replaces the instance, delete before create). The gate
 * holds the live path (HAProxy), so a rebuild is a full live outage for as long as the new instance
 * takes to boot: it is refused unless `yquant:acceptGateOutage` is true. The tokens survive it: they
 * live on their own block volume (components/token-volume.ts), which only gets a new attachment.
 *
 * Like an engine, the gate keeps the launch metadata and image of its running instance while it
 * stands (so a renderer change or a newer image never replaces it; converge brings the files) and
 * takes the current ones on a rebuild: the metadata recorded at its last creation (stack output
 * `gateMetadata`), or, for a gate created before that output existed, the running instance's own
 * (asked of OCI); the image is always the running instance's own.
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import type { NodeRebuild } from "../components/nodes";
import type { LaunchMetadata, PreviousDeployment } from "./guard";

/** The stack outputs the next update reads back. */
export const GATE_OUTPUTS = {
  generation: "gateRebuildGeneration",
  metadata: "gateMetadata",
} as const;

/** The config keys, as messages name them. */
export const GATE_REBUILD_KEY = "yquant:rebuild.gate";
export const ACCEPT_GATE_OUTAGE_KEY = "yquant:acceptGateOutage";

/** The counter the running gate was created under: the recorded one, 0 for a gate from before it. */
export function recordedGateGeneration(recorded: unknown): number {
  return typeof recorded === "number" && Number.isInteger(recorded) && recorded >= 0 ? recorded : 0;
}

/** True when this update rebuilds the gate (a deployed stack whose counter changes). */
export function gateRebuildPending(previous: PreviousDeployment, recorded: unknown, wanted: number): boolean {
  return previous.deployed && recordedGateGeneration(recorded) !== wanted;
}

/** The refusal of a gate rebuild whose outage is not accepted, or undefined. */
export function gateRebuildRefusal(
  previous: PreviousDeployment,
  recorded: unknown,
  wanted: number,
  acceptGateOutage: boolean,
): string | undefined {
  if (!gateRebuildPending(previous, recorded, wanted) || acceptGateOutage) return undefined;
  const before = recordedGateGeneration(recorded);
  return (
    `${GATE_REBUILD_KEY}: refusing to rebuild the gate (${before} -> ${wanted}) without ${ACCEPT_GATE_OUTAGE_KEY}. ` +
    "A gate rebuild replaces yq-gate: live traffic, the token Valkey and the gate's Sentinel are down until " +
    "the new instance has booted (docs/runbooks/gate-rebuild.md has the measured outage); the tokens are kept " +
    `on their volume. To accept the outage, set ${ACCEPT_GATE_OUTAGE_KEY} to true; or set rebuild.gate back ` +
    `to ${before}. Nothing was changed.`
  );
}

/** The gate's rebuild counter and what it keeps while it stands (undefined: the current values). */
export function gateRebuild(
  wanted: number,
  previous: pulumi.Input<PreviousDeployment>,
  recordedGeneration: pulumi.Input<unknown>,
  recordedMetadata: pulumi.Input<unknown>,
  recordedInstanceIds: pulumi.Input<unknown>,
  gate: string,
  /** The resource an error inside an apply is reported on. */
  resource: pulumi.Resource,
): NodeRebuild {
  const standing = pulumi
    .all([previous, recordedGeneration, recordedInstanceIds])
    .apply(([last, generation, ids]): Promise<oci.core.GetInstanceResult | undefined> => {
      if (!last.deployed || gateRebuildPending(last, generation, wanted)) return Promise.resolve(undefined);
      const id = (ids as Record<string, unknown> | undefined)?.[gate];
      if (typeof id !== "string" || id === "") {
        throw new pulumi.ResourceError(
          `${GATE_REBUILD_KEY}: the last deployment recorded no instanceIds.${gate}, so the gate's launch ` +
            'metadata and image cannot be kept and a changed user data would replace it; see docs/runbooks/deploy.md, "Adopting".',
          resource,
        );
      }
      return oci.core.getInstance({ instanceId: id });
    });
  return {
    generation: wanted,
    keptMetadata: pulumi.secret(
      pulumi.all([standing, recordedMetadata]).apply(([instance, recorded]): LaunchMetadata | undefined => {
        if (instance === undefined) return undefined;
        if (recorded && typeof recorded === "object") return recorded as LaunchMetadata;
        return instance.metadata;
      }),
    ),
    keptImageId: standing.apply((instance) => {
      if (instance === undefined) return undefined;
      const image = instance.sourceDetails[0]?.sourceId ?? instance.image;
      if (!image)
        throw new pulumi.ResourceError(`yq-${gate} (${instance.id}) reports no source image`, resource);
      return image;
    }),
  };
}
