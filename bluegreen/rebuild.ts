/**
 * Rebuild of one engine: the per-color counter `yquant:rebuild.<color>` becomes the engine Node's
 * `rebuildGeneration` (the instance's freeform tag `yquant-rebuild`, whose change replaces it; the
 * Node deletes before replacing, its private IP is pinned). Only that instance and what hangs on it
 * (its release command, whose trigger is the instance ID) are replaced.
 *
 * The Node launches with the metadata chosen here (guard.ts, keptLaunchMetadata): the one recorded at
 * the engine's last creation (stack output `engineMetadata`) while it stands, or its current user data
 * when it is created or rebuilt. A changed renderer therefore still never replaces a running engine,
 * and a rebuild boots from the current cloud-init. The image likewise: the running instance's own
 * image (asked of OCI) while it stands, the current one (newest found, or pinned) on a rebuild.
 */
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { COLORS, Color } from "../cloud-init/layout";
import type { NodeRebuild } from "../components/nodes";
import {
  LaunchMetadata,
  PipelineIntent,
  PreviousDeployment,
  keptLaunchMetadata,
  rebuildPending,
} from "./guard";

/**
 * Each engine's rebuild counter and the launch metadata it keeps (undefined: the current one). A
 * record the last deployment lacks fails as a `pulumi.ResourceError` of `owner` (the deployment
 * history that read it).
 */
export function engineRebuilds(
  intent: PipelineIntent,
  previous: pulumi.Input<PreviousDeployment>,
  recordedMetadata: pulumi.Input<Readonly<Record<Color, LaunchMetadata>> | undefined>,
  recordedInstanceIds: pulumi.Input<unknown>,
  owner: pulumi.Resource,
): Readonly<Record<Color, NodeRebuild>> {
  const rebuild = (color: Color): NodeRebuild => ({
    generation: intent.rebuild[color],
    keptMetadata: pulumi.all([previous, recordedMetadata]).apply(([last, recorded]) => {
      try {
        return keptLaunchMetadata({ ...last, engineMetadata: recorded }, intent, color);
      } catch (error) {
        throw new pulumi.ResourceError((error as Error).message, owner);
      }
    }),
    keptImageId: pulumi
      .all([previous, recordedInstanceIds])
      .apply(([last, ids]) => keptImageId(last, intent, color, ids, owner)),
  });
  return { blue: rebuild("blue"), green: rebuild("green") };
}

/**
 * The image `color`'s running instance has (asked of OCI: `getInstance` of its recorded ID), kept
 * while it stands; undefined when it is created or rebuilt, so it launches from the current image.
 */
function keptImageId(
  previous: PreviousDeployment,
  intent: PipelineIntent,
  color: Color,
  recordedInstanceIds: unknown,
  owner: pulumi.Resource,
): Promise<string | undefined> {
  if (!previous.deployed || rebuildPending(previous, intent, color)) return Promise.resolve(undefined);
  const id = (recordedInstanceIds as Record<string, unknown> | undefined)?.[color];
  if (typeof id !== "string" || id === "") {
    throw new pulumi.ResourceError(
      `yquant:rebuild.${color}: the last deployment recorded no instanceIds.${color}, so the image of ` +
        `yq-${color} cannot be kept and a newer image would reboot it; see docs/runbooks/deploy.md, "Adopting".`,
      owner,
    );
  }
  return oci.core.getInstance({ instanceId: id }).then((instance) => {
    const image = instance.sourceDetails[0]?.sourceId ?? instance.image;
    if (!image) throw new pulumi.ResourceError(`yq-${color} (${id}) reports no source image`, owner);
    return image;
  });
}

/** What `rebuildRecords` reads of each engine Node. */
export interface EngineRecord {
  readonly instanceId: pulumi.Output<string>;
  readonly launchMetadata: pulumi.Output<LaunchMetadata>;
}

/**
 * The stack outputs the next update reads back: the counter and the launch metadata each engine
 * instance was created with. Both wait for the instance, so a failed create records nothing new.
 */
export function rebuildRecords(
  intent: PipelineIntent,
  engines: Readonly<Record<Color, EngineRecord>>,
): {
  rebuildGenerations: Record<Color, pulumi.Output<number>>;
  engineMetadata: pulumi.Output<Record<Color, LaunchMetadata>>;
} {
  const after = <T>(color: Color, value: pulumi.Input<T>): pulumi.Output<T> =>
    pulumi.all([engines[color].instanceId, value]).apply(([, v]) => v as T);
  return {
    rebuildGenerations: {
      blue: after("blue", intent.rebuild.blue),
      green: after("green", intent.rebuild.green),
    },
    engineMetadata: pulumi.secret(
      pulumi
        .all(COLORS.map((color) => after(color, engines[color].launchMetadata)))
        .apply(([blue, green]): Record<Color, LaunchMetadata> => ({ blue, green })),
    ),
  };
}
