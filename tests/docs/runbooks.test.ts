/**
 * The runbooks: each step says whether the local lab exercises it (a `Lab:` line), the lab commands
 * and scenarios it names exist, and the Korean runbook has the same steps with the same lab coverage.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { LAB_COMMANDS as LAB_COMMAND_NAMES } from "../../lab/cli-args";

const ROOT = path.resolve(__dirname, "../..");
const RUNBOOKS = ["deploy.md", "app-failure.md", "valkey-failure.md", "gate-failure.md", "node-health.md"];
const LAB_COMMANDS: readonly string[] = LAB_COMMAND_NAMES;

type Coverage = "exercised" | "in part" | "not exercised";

interface Step {
  readonly title: string;
  readonly coverage: Coverage;
  readonly scenarios: string[];
  readonly commands: string[];
}

function steps(file: string, heading: RegExp, coverage: (lab: string) => Coverage | undefined): Step[] {
  const text = fs.readFileSync(file, "utf8");
  const parts = text.split(/^### /m).slice(1);
  return parts
    .filter((p) => heading.test(p))
    .map((part) => {
      const labs = part.split("\n").filter((line) => line.startsWith("Lab: "));
      expect(labs.length, `${file}: ${part.split("\n")[0]}`).toBe(1);
      const lab = labs[0] as string;
      const level = coverage(lab);
      expect(level, lab).toBeDefined();
      const paragraph = part.slice(part.indexOf(lab)).split("\n\n")[0] as string;
      return {
        title: part.split("\n")[0] as string,
        coverage: level as Coverage,
        scenarios: [...new Set([...paragraph.matchAll(/\bs(\d)\b/g)].map((m) => `s${m[1]}`))].sort(),
        commands: [
          ...new Set([...paragraph.matchAll(/npm run lab -- ([^`]+)`/g)].map((m) => m[1] as string)),
        ].sort(),
      };
    });
}

const english = (lab: string): Coverage | undefined =>
  lab.startsWith("Lab: exercised in part")
    ? "in part"
    : lab.startsWith("Lab: exercised")
      ? "exercised"
      : lab.startsWith("Lab: not exercised")
        ? "not exercised"
        : undefined;
const korean = (lab: string): Coverage | undefined =>
  lab.startsWith("Lab: 일부 검증함")
    ? "in part"
    : lab.startsWith("Lab: 검증함")
      ? "exercised"
      : lab.startsWith("Lab: 검증하지 않음")
        ? "not exercised"
        : undefined;

describe.each(RUNBOOKS)("runbook %s", (name) => {
  const en = steps(path.join(ROOT, "docs/runbooks", name), /^Step \d+\. /, english);
  const ko = steps(path.join(ROOT, "docs/ko/runbooks", name), /^단계 \d+\. /, korean);

  it("has numbered steps, each with one Lab: line", () => {
    expect(en.length).toBeGreaterThanOrEqual(4);
    expect(en.map((s) => s.title.replace(/\..*/, ""))).toEqual(en.map((_, i) => `Step ${i + 1}`));
  });

  it("names only lab scenarios and lab commands that exist", () => {
    const scenarios = fs.readdirSync(path.join(ROOT, "lab/scenarios"));
    for (const step of en) {
      for (const s of step.scenarios)
        expect(
          scenarios.some((f) => f.startsWith(`${s}-`)),
          `${step.title}: ${s}`,
        ).toBe(true);
      for (const c of step.commands) expect(LAB_COMMANDS, `${step.title}: ${c}`).toContain(c.split(" ")[0]);
      if (step.coverage !== "not exercised") {
        expect(step.scenarios.length + step.commands.length, step.title).toBeGreaterThan(0);
      }
    }
  });

  it("has a Korean version with the same steps and the same lab coverage", () => {
    const shape = (list: Step[]) => list.map((s) => [s.coverage, s.scenarios, s.commands]);
    expect(shape(ko)).toEqual(shape(en));
  });
});

it("says which runbook steps the lab exercises (the table in the report)", () => {
  const table = RUNBOOKS.flatMap((name) =>
    steps(path.join(ROOT, "docs/runbooks", name), /^Step \d+\. /, english).map(
      (s) =>
        `${name} ${s.title.replace(/\..*/, "")}: ${s.coverage}${s.scenarios.length ? ` (${s.scenarios.join(", ")})` : ""}`,
    ),
  );
  expect(table).toEqual([
    "deploy.md Step 1: not exercised",
    "deploy.md Step 2: exercised",
    "deploy.md Step 3: exercised",
    "deploy.md Step 4: exercised (s1, s2, s3)",
    "deploy.md Step 5: exercised (s5)",
    "deploy.md Step 6: exercised",
    "app-failure.md Step 1: exercised (s4)",
    "app-failure.md Step 2: exercised (s4)",
    "app-failure.md Step 3: exercised",
    "app-failure.md Step 4: exercised",
    "app-failure.md Step 5: exercised",
    "valkey-failure.md Step 1: exercised (s5)",
    "valkey-failure.md Step 2: exercised (s5)",
    "valkey-failure.md Step 3: exercised (s5)",
    "valkey-failure.md Step 4: exercised (s5)",
    "valkey-failure.md Step 5: exercised (s6)",
    "gate-failure.md Step 1: exercised",
    "gate-failure.md Step 2: exercised (s6, s7)",
    "gate-failure.md Step 3: not exercised",
    "gate-failure.md Step 4: not exercised (s6)",
    "gate-failure.md Step 5: not exercised (s5)",
    "gate-failure.md Step 6: in part",
    "node-health.md Step 1: not exercised",
    "node-health.md Step 2: not exercised",
    "node-health.md Step 3: exercised",
    "node-health.md Step 4: exercised",
  ]);
});
