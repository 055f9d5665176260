/**
 * The GitHub Actions workflows, checked offline by @action-validator/core (the action-validator
 * schema checker compiled to WASM, shipped in the npm package) and by their contents.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const DIR = path.resolve(__dirname, "../../.github/workflows");
const read = (name: string): string => fs.readFileSync(path.join(DIR, name), "utf8");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  id?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, { steps: Step[]; needs?: string; env?: Record<string, string>; container?: string }>;
}

function pulumiSteps(workflow: Workflow, job: string): Record<string, unknown>[] {
  return (workflow.jobs[job]?.steps ?? [])
    .filter((s) => s.uses === "pulumi/actions@v6")
    .map((s) => s.with ?? {});
}

describe("Pulumi CLI pin", () => {
  it.each([
    ["preview.yml", 1],
    ["deploy.yml", 3],
  ])(
    "%s pins every pulumi/actions step (%i) to @pulumi/pulumi's version, at least 3.112.0",
    (name, steps) => {
      const sdk = (
        JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../package.json"), "utf8")) as {
          dependencies: Record<string, string>;
        }
      ).dependencies["@pulumi/pulumi"];
      const workflow = parse(read(name)) as Workflow;
      const pins = Object.keys(workflow.jobs).flatMap((job) =>
        pulumiSteps(workflow, job).map((w) => w["pulumi-version"]),
      );
      expect(pins).toHaveLength(steps);
      expect(new Set(pins)).toEqual(new Set([sdk]));
      const [major, minor] = String(sdk).split(".").map(Number);
      expect((major ?? 0) > 3 || ((major ?? 0) === 3 && (minor ?? 0) >= 112)).toBe(true);
    },
  );
});

describe("workflow validation", () => {
  it.each(["preview.yml", "deploy.yml"])("%s has no errors", (name) => {
    expect(validateWorkflow(read(name)).errors).toEqual([]);
  });

  it("reports errors for a broken workflow (a step with both uses and run, a job without runs-on)", () => {
    const broken = [
      "name: broken",
      "on: push",
      "jobs:",
      "  a:",
      "    steps:",
      "      - uses: actions/checkout@v4",
      "        run: echo both",
    ].join("\n");
    const result = validateWorkflow(broken) as {
      errors: { code: string; path: string; states: unknown[] }[];
    };
    // One error at the job: neither a normal job (the step, no runs-on) nor a reusable-workflow call.
    expect(result.errors.map((e) => [e.code, e.path, e.states.length])).toEqual([["one_of", "/jobs/a", 2]]);
    const nested = JSON.stringify(result.errors);
    expect([
      nested.includes('"path":"/jobs/a/steps/0"'),
      nested.includes('"path":"/jobs/a/runs-on"'),
    ]).toEqual([true, true]);
  });

  it("reports an unknown top-level key", () => {
    const result = validateWorkflow(read("preview.yml").replace("permissions:", "permission:"));
    expect(result.errors).toEqual([
      {
        code: "properties",
        detail: "Additional property 'permission' is not allowed",
        path: "",
        title: "Property conditions are not met",
      },
    ]);
  });
});

describe("preview.yml", () => {
  const workflow = parse(read("preview.yml")) as Workflow;

  it("runs on pull requests to main and may comment on them", () => {
    expect(workflow.on).toEqual({ pull_request: { branches: ["main"] } });
    expect(workflow.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });

  it("runs the tests (npm ci and npm test through .ci/run) before the preview", () => {
    expect(workflow.jobs["test"]?.steps.map((s) => s.run).filter(Boolean)).toContain("bash .ci/run");
    expect(workflow.jobs["preview"]?.needs).toBe("test");
    expect(workflow.jobs["preview"]?.steps.map((s) => s.run)).toContain("npm ci --no-audit --no-fund");
  });

  it("runs pulumi preview --diff with the policy pack and posts it as a PR comment", () => {
    expect(pulumiSteps(workflow, "preview")).toEqual([
      {
        command: "preview",
        "pulumi-version": "3.248.0",
        "stack-name": "${{ vars.PULUMI_STACK_NAME || 'prod' }}",
        "work-dir": "./",
        "cloud-url": "${{ secrets.PULUMI_BACKEND_URL }}",
        diff: true,
        policyPacks: "policy",
        "comment-on-pr": true,
        "edit-pr-comment": true,
        "github-token": "${{ secrets.GITHUB_TOKEN }}",
      },
    ]);
  });

  it("takes the backend and the OCI credentials from repository secrets only", () => {
    expect(workflow.jobs["preview"]?.env).toEqual({
      PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
      PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
      TF_VAR_user_ocid: "${{ secrets.OCI_CLI_USER }}",
      TF_VAR_tenancy_ocid: "${{ secrets.OCI_CLI_TENANCY }}",
      TF_VAR_fingerprint: "${{ secrets.OCI_CLI_FINGERPRINT }}",
      TF_VAR_private_key: "${{ secrets.OCI_CLI_KEY_CONTENT }}",
      TF_VAR_region: "${{ secrets.OCI_CLI_REGION }}",
    });
  });
});

describe("deploy.yml", () => {
  const workflow = parse(read("deploy.yml")) as Workflow;
  const steps = workflow.jobs["deploy"]?.steps ?? [];

  it("runs on pushes to main, one at a time, after the tests", () => {
    expect(workflow.on).toEqual({ push: { branches: ["main"] } });
    expect(workflow.jobs["deploy"]?.needs).toBe("test");
  });

  it("installs the pinned CLI, checks the gate's SSH, previews (the guard) and then runs pulumi up", () => {
    expect(pulumiSteps(workflow, "deploy").map((w) => w["command"])).toEqual([undefined, "preview", "up"]);
    const names = steps.map((s) => s.name ?? s.run ?? "");
    expect(names.indexOf("Gate SSH reachable from this runner (DEPLOY_RUNNER inside adminCidrs)")).toBe(
      names.indexOf("Pulumi CLI (pinned)") + 1,
    );
    expect(names.indexOf("pulumi preview (guard)")).toBe(names.indexOf("Pulumi CLI (pinned)") + 2);
  });

  it("fails early, naming DEPLOY_RUNNER and adminCidrs, when the runner cannot reach the gate's SSH", () => {
    const check = steps.find((s) => s.name?.startsWith("Gate SSH"))?.run ?? "";
    expect(check).toContain('ip=$(pulumi stack output gatePublicIp --stack "$STACK" 2>/dev/null || true)');
    expect(check).toContain('if ! timeout 10 bash -c "exec 3<>/dev/tcp/${ip}/22" 2>/dev/null; then');
    expect(check).toContain("::error::this runner cannot reach the gate's SSH at ${ip}:22");
    expect(check).toContain("set the repository variable DEPLOY_RUNNER");
    expect(check).toContain("add this runner's address to yquant:adminCidrs");
    expect(check.split("\n").filter((l) => l.trim() === "exit 1")).toHaveLength(1);
  });

  it("smoke-tests the standby through the staging URL with bounded retries and writes a job summary", () => {
    const smoke = steps.find((s) => s.name?.startsWith("Smoke test"))?.run ?? "";
    for (const text of [
      "o.stagingUrl, o.standbyColor, o.deployedReleases[o.standbyColor]",
      'curl -fsS --max-time 5 "${url}health"',
      "for attempt in $(seq 1 10); do",
      '>> "$GITHUB_STEP_SUMMARY"',
    ]) {
      expect(smoke).toContain(text);
    }
  });
});
