/**
 * The policy pack against the real program: program.ts runs under the stack tests' mocks
 * (tests/fixtures.ts), and every policy of the pack is applied to every resource it records,
 * as `pulumi preview --policy-pack policy` would.
 */
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { beforeAll, describe, expect, it } from "vitest";
import { programConfig, type ProgramRun, runProgram, unwrapSecrets } from "../tests/fixtures";
import { allPolicies } from "./rules";

interface Violation {
  readonly policy: string;
  readonly level: string;
  readonly resource: string;
  readonly message: string;
}

const opts = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

async function applyPack(run: ProgramRun): Promise<Violation[]> {
  const violations: Violation[] = [];
  const custom = run.resources.filter((r) => r.custom);
  const policyResources: PolicyResource[] = custom.map((r) => ({
    type: r.type,
    name: r.name,
    props: unwrapSecrets(r.inputs) as Record<string, unknown>,
    urn: `urn:pulumi:prod::yquant::${r.type}::${r.name}`,
    opts,
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }));
  for (const policy of allPolicies) {
    const report =
      (resource: string): ReportViolation =>
      (message) =>
        violations.push({
          policy: policy.name,
          level: policy.enforcementLevel ?? "advisory",
          resource,
          message,
        });
    if ("validateStack" in policy) {
      await (policy as StackValidationPolicy).validateStack(
        {
          resources: policyResources,
          stackTags: new Map(),
          getConfig: <T extends object>() => ({}) as T,
          notApplicable: (): never => {
            throw new Error("not applicable");
          },
        },
        report("(stack)"),
      );
      continue;
    }
    const validations: ResourceValidation[] = Array.isArray(policy.validateResource)
      ? policy.validateResource
      : policy.validateResource
        ? [policy.validateResource]
        : [];
    for (const r of policyResources) {
      const args: ResourceValidationArgs = {
        type: r.type,
        name: r.name,
        props: r.props,
        urn: r.urn,
        opts: r.opts,
        isType: () => false,
        asType: () => undefined,
        stackTags: new Map(),
        getConfig: <T extends object>() => ({}) as T,
        notApplicable: (): never => {
          throw new Error("not applicable");
        },
      };
      for (const validate of validations) await validate(args, report(r.name));
    }
  }
  return violations;
}

const mandatory = (vs: Violation[]) => vs.filter((v) => v.level === "mandatory");

describe("the pack on the prod-like program", () => {
  let run: ProgramRun;
  let violations: Violation[];
  beforeAll(async () => {
    run = await runProgram(programConfig());
    violations = await applyPack(run);
  });

  it("runs the program without an error, over instances, NSG rules, the security list and the public IP", () => {
    expect(run.error).toBeUndefined();
    const types = new Set(run.resources.filter((r) => r.custom).map((r) => r.type));
    for (const type of [
      "oci:Core/instance:Instance",
      "oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule",
      "oci:Core/securityList:SecurityList",
      "oci:Core/publicIp:PublicIp",
    ]) {
      expect(types.has(type)).toBe(true);
    }
  });

  it("has no mandatory violation", () => {
    expect(mandatory(violations)).toEqual([]);
  });

  it("has a reserved gate IP (no reserved-gate-ip or stack-has-reserved-gate-ip finding)", () => {
    expect(violations.filter((v) => v.policy.includes("reserved-gate-ip"))).toEqual([]);
  });
});

describe("the pack with natGateway: false", () => {
  it("refuses the engines' public IPs, and nothing else that is mandatory", async () => {
    const run = await runProgram(programConfig({ natGateway: "false" }));
    expect(run.error).toBeUndefined();
    expect(mandatory(await applyPack(run)).map((v) => v.message)).toEqual(
      ["yq-blue", "yq-green"].map(
        (name) =>
          `engine instance "${name}" sets createVnicDetails.assignPublicIp to true: ` +
          "engines must have no public IP (they reach the internet through the NAT gateway)",
      ),
    );
  });
});
