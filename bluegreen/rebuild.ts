/**
 * Rebuild of one engine: the per-color counter `yquant:rebuild.<color>` is written into the engine
 * instance's freeform tag `yquant-rebuild`, and a change of that tag replaces the instance
 * (`replaceOnChanges`; the Node already deletes before replacing, its private IP is pinned). Only that
 * instance and what hangs on it (its release command, whose trigger is the instance ID) are replaced.
 *
 * Current user data on a rebuild: Pulumi applies `ignoreChanges` by putting the OLD recorded value of
 * an ignored property into the new inputs, and that holds for a replacement too, so an instance whose
 * `metadata` is ignored would be re-created with its old cloud-init. For the engines this
 * transformation therefore takes `metadata` out of `ignoreChanges` and instead chooses the value
 * itself (bluegreen/guard.ts, engineLaunchMetadata): the metadata recorded at the engine's last
 * creation (stack output `engineMetadata`), or the current one when the engine is created or rebuilt.
 * A changed renderer therefore still never replaces a running engine, and a rebuild boots from the
 * current cloud-init. The image stays in `ignoreChanges` (a rebuild keeps the recorded image).
 */
import * as pulumi from "@pulumi/pulumi";
import { Color } from "../cloud-init/layout";
import { LaunchMetadata, PipelineIntent, PreviousDeployment, engineLaunchMetadata } from "./guard";

export const INSTANCE_TYPE = "oci:Core/instance:Instance";
export const REBUILD_TAG = "yquant-rebuild";
/** The property path whose change replaces the instance. */
export const REBUILD_REPLACE_PATH = `freeformTags["${REBUILD_TAG}"]`;

export interface EngineRebuildArgs {
  readonly color: Color;
  /** The stack configuration the guard checks (activeColor, releases, rebuild counters). */
  readonly intent: PipelineIntent;
  /** The last deployment, already guarded (DeploymentHistory.guarded). */
  readonly previous: pulumi.Input<PreviousDeployment>;
  /** The engines' recorded launch metadata (DeploymentHistory.engineMetadata). */
  readonly recordedMetadata: pulumi.Input<Readonly<Record<Color, LaunchMetadata>> | undefined>;
}

/**
 * The transformation to give the engine's Node component (`{ transformations: [rebuild.transformation] }`),
 * and the launch metadata it chose (for the stack output `engineMetadata`).
 */
export class EngineRebuild {
  public readonly transformation: pulumi.ResourceTransformation;
  /** The metadata the engine instance is given; set once the transformation ran. */
  public readonly launchMetadata: pulumi.Output<LaunchMetadata>;

  constructor(args: EngineRebuildArgs) {
    let resolveMetadata: (value: pulumi.Output<LaunchMetadata>) => void = () => undefined;
    const chosen = new Promise<pulumi.Output<LaunchMetadata>>((resolve) => (resolveMetadata = resolve));
    this.launchMetadata = pulumi.secret(pulumi.output(chosen).apply((metadata) => metadata));
    const generation = String(args.intent.rebuild[args.color]);

    this.transformation = ({ type, props, opts }) => {
      if (type !== INSTANCE_TYPE) return undefined;
      const current = pulumi.output(props["metadata"] as pulumi.Input<LaunchMetadata>);
      const metadata = pulumi.secret(
        pulumi
          .all([args.previous, args.recordedMetadata, current])
          .apply(([previous, recorded, now]) =>
            engineLaunchMetadata({ ...previous, engineMetadata: recorded }, args.intent, args.color, now),
          ),
      );
      resolveMetadata(metadata);
      const freeformTags = { ...((props["freeformTags"] as Record<string, string> | undefined) ?? {}) };
      freeformTags[REBUILD_TAG] = generation;
      return {
        props: { ...props, metadata, freeformTags },
        opts: {
          ...opts,
          ignoreChanges: (opts.ignoreChanges ?? []).filter((path) => path !== "metadata"),
          replaceOnChanges: [...(opts.replaceOnChanges ?? []), REBUILD_REPLACE_PATH],
        },
      };
    };
  }
}

/** One EngineRebuild per engine color. */
export function engineRebuilds(
  intent: PipelineIntent,
  previous: pulumi.Input<PreviousDeployment>,
  recordedMetadata: pulumi.Input<Readonly<Record<Color, LaunchMetadata>> | undefined>,
): Readonly<Record<Color, EngineRebuild>> {
  const rebuild = (color: Color): EngineRebuild =>
    new EngineRebuild({ color, intent, previous, recordedMetadata });
  return { blue: rebuild("blue"), green: rebuild("green") };
}

/**
 * The stack outputs the next update reads back: the counter and the launch metadata each engine
 * instance was created with. Both wait for the instance, so a failed create records nothing new.
 */
export function rebuildRecords(
  intent: PipelineIntent,
  rebuilds: Readonly<Record<Color, EngineRebuild>>,
  instanceIds: Readonly<Record<Color, pulumi.Output<string>>>,
): {
  rebuildGenerations: Record<Color, pulumi.Output<number>>;
  engineMetadata: pulumi.Output<Record<Color, LaunchMetadata>>;
} {
  const after = <T>(color: Color, value: pulumi.Input<T>): pulumi.Output<T> =>
    pulumi.all([instanceIds[color], value]).apply(([, v]) => v as T);
  return {
    rebuildGenerations: {
      blue: after("blue", intent.rebuild.blue),
      green: after("green", intent.rebuild.green),
    },
    engineMetadata: pulumi.secret(
      pulumi
        .all([after("blue", rebuilds.blue.launchMetadata), after("green", rebuilds.green.launchMetadata)])
        .apply(([blue, green]): Record<Color, LaunchMetadata> => ({ blue, green })),
    ),
  };
}
