/**
 * DeploymentHistory: what the stack's last deployment recorded, read through a StackReference to the
 * stack itself (`<organization>/<project>/<stack>`). The engine reads the last checkpoint's outputs,
 * in `pulumi preview` as in `pulumi up`, so the pipeline's refusals (bluegreen/guard.ts) show in the
 * PR's preview. A stack with no recorded outputs yet (first `pulumi up`) reads as "not deployed".
 */
import * as pulumi from "@pulumi/pulumi";
import { Color } from "../cloud-init/layout";
import {
  LaunchMetadata,
  OUTPUT_NAMES,
  PipelineIntent,
  PreviousDeployment,
  pipelineRefusals,
  previousFromOutputs,
} from "./guard";

export interface DeploymentHistoryArgs {
  /** Fully qualified name of the stack to read. Default: this stack, `<org>/<project>/<stack>`. */
  readonly stackName?: string;
}

/** Output read to tell a deployed stack from a new one (stack-core's export, never secret). */
export const DEPLOYED_MARKER_OUTPUT = "instanceIds";

/** The stack's organization; a DIY backend's is always the constant `organization`. */
function organization(): string {
  try {
    return pulumi.getOrganization();
  } catch {
    return "organization"; // mocks that set no organization
  }
}

export class DeploymentHistory extends pulumi.ComponentResource {
  /** The non-secret part of the last deployment (live color, releases, rebuild counters). */
  public readonly previous: pulumi.Output<PreviousDeployment>;
  /** The engines' recorded launch metadata (secret: user data holds the Valkey passwords). */
  public readonly engineMetadata: pulumi.Output<Readonly<Record<Color, LaunchMetadata>> | undefined>;
  public readonly stackName: string;
  private readonly self: pulumi.StackReference;

  constructor(name: string, args: DeploymentHistoryArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("yquant:pipeline:DeploymentHistory", name, {}, opts);
    this.stackName = args.stackName ?? `${organization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
    const self = new pulumi.StackReference(`${name}-self`, { name: this.stackName }, { parent: this });
    this.self = self;
    // `self.outputs` as a whole is secret once any output is (engineMetadata): read the plain ones
    // by name and drop the taint (this program records them as plain outputs), keep the other secret.
    // `outputs` is undefined for a stack without a checkpoint (and under mocks that return none).
    const read = (output: string): pulumi.Output<unknown> =>
      pulumi.unsecret(self.outputs.apply((outputs) => (outputs ?? {})[output] as unknown));
    this.previous = pulumi
      .all([
        read(DEPLOYED_MARKER_OUTPUT),
        read(OUTPUT_NAMES.liveColor),
        read(OUTPUT_NAMES.deployedReleases),
        read(OUTPUT_NAMES.rebuildGenerations),
      ])
      .apply(([marker, liveColor, deployedReleases, rebuildGenerations]) =>
        previousFromOutputs(
          marker === undefined && liveColor === undefined
            ? undefined
            : {
                [DEPLOYED_MARKER_OUTPUT]: marker,
                [OUTPUT_NAMES.liveColor]: liveColor,
                [OUTPUT_NAMES.deployedReleases]: deployedReleases,
                [OUTPUT_NAMES.rebuildGenerations]: rebuildGenerations,
              },
        ),
      );
    this.engineMetadata = pulumi.secret(
      self.outputs.apply(
        (outputs) =>
          previousFromOutputs({ [OUTPUT_NAMES.engineMetadata]: (outputs ?? {})[OUTPUT_NAMES.engineMetadata] })
            .engineMetadata,
      ),
    );
    this.registerOutputs({ previous: this.previous });
  }

  /** One plain output of the last deployment, by name (undefined on a new stack). */
  public recorded(output: string): pulumi.Output<unknown> {
    return pulumi.unsecret(this.self.outputs.apply((outputs) => (outputs ?? {})[output] as unknown));
  }

  /**
   * The last deployment, resolved only when `intent` passes every check of bluegreen/guard.ts; it
   * rejects with the refusals otherwise (a `pulumi.ResourceError` of this component). The switch,
   * the release commands and the engines' launch metadata all read it, so a refused update
   * registers none of them.
   */
  public guarded(intent: PipelineIntent): pulumi.Output<PreviousDeployment> {
    return this.previous.apply((previous) => {
      const refusals = pipelineRefusals(previous, intent);
      if (refusals.length > 0) throw new pulumi.ResourceError(refusals.join("\n"), this);
      return previous;
    });
  }
}
