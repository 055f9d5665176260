/**
 * The cross-layer rules (rules.ts) and the operations scripts agree: deploy.sh's release check and
 * switch-active.sh's drain check are run by bash on the same candidates, and accept exactly what
 * isReleaseRef and parseDrainSeconds accept.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  DRAIN_SECONDS,
  RELEASE_REF_PATTERN,
  isRebuildCounter,
  isReleaseRef,
  otherColor,
  parseDrainSeconds,
  releaseRefProblem,
} from "../../rules";

const SCRIPTS = path.resolve(__dirname, "../../cloud-init/scripts");
const script = (name: string): string => fs.readFileSync(path.join(SCRIPTS, `${name}.sh`), "utf8");

/** The line of `text` that matches `pattern`, or a failure naming what is missing. */
function line(text: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(text);
  if (!match) throw new Error(`${what} not found`);
  return match;
}

/** Runs `condition` (a bash `[[ ... ]]` test over $v) for each value; true where it holds. */
function bashAccepts(condition: string, values: readonly string[]): boolean[] {
  const out = execFileSync(
    "bash",
    ["-c", `for v in "$@"; do if ${condition}; then echo 1; else echo 0; fi; done`, "bash", ...values],
    { encoding: "utf8", timeout: 10_000 },
  );
  return out
    .trim()
    .split("\n")
    .map((x) => x === "1");
}

const RELEASES = [
  "v1.0.0",
  "placeholder",
  "release/2026.11.26",
  "a",
  "a".repeat(100),
  "a".repeat(101),
  "v1..2",
  "..",
  "-rf",
  ".hidden",
  "/abs",
  "v1;reboot",
  "v1 2",
  "v1$x",
  "feature_x-1",
  "",
  "ä",
];

const DRAINS = ["0", "30", "0030", "3600", "3601", "9999", "10000", "-1", "1.5", "30s", "0x10", "", " 30"];

describe("release ref", () => {
  const check = line(
    script("deploy"),
    /if \[\[ ! \$\{release\} =~ (\S+) \|\| \$\{release\} == \*\.\.\* \]\]; then/,
    "deploy.sh's release check",
  );

  it("deploy.sh uses the same pattern, and refuses '..' as rules.ts does", () => {
    expect(check[1]).toBe(RELEASE_REF_PATTERN.source);
  });

  it("deploy.sh's check accepts exactly what isReleaseRef accepts", () => {
    const accepted = bashAccepts(`[[ $v =~ ${check[1]} && $v != *..* ]]`, RELEASES);
    expect(RELEASES.filter((_, i) => accepted[i])).toEqual(RELEASES.filter((ref) => isReleaseRef(ref)));
    expect(RELEASES.filter((ref) => isReleaseRef(ref))).toEqual([
      "v1.0.0",
      "placeholder",
      "release/2026.11.26",
      "a",
      "a".repeat(100),
      "feature_x-1",
    ]);
  });

  it("names the rule in its refusal", () => {
    expect(releaseRefProblem("v1..2")).toBe(
      `"v1..2" is not a release ref: use 1 to 100 letters, digits, '.', '_', '-' or '/', starting with a letter or digit, without ".."`,
    );
    expect(releaseRefProblem("v1.2")).toBeUndefined();
  });
});

describe("drain range", () => {
  const check = line(
    script("switch-active"),
    /if \[\[ ! \$\{drain\} =~ (\S+) \]\] \|\| \(\(10#\$\{drain\} > ([0-9]+)\)\); then/,
    "switch-active.sh's --drain check",
  );

  it("switch-active.sh's bound is rules.ts's", () => {
    expect(Number(check[2])).toBe(DRAIN_SECONDS[1]);
  });

  it("switch-active.sh's check accepts exactly what parseDrainSeconds accepts", () => {
    const accepted = bashAccepts(`[[ $v =~ ${check[1]} ]] && ((10#$v <= ${check[2]}))`, DRAINS);
    expect(DRAINS.filter((_, i) => accepted[i])).toEqual(
      DRAINS.filter((d) => parseDrainSeconds(d) !== undefined),
    );
    expect(DRAINS.map((d) => parseDrainSeconds(d))).toEqual([
      0,
      30,
      30,
      3600,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe("rebuild counter and colors", () => {
  it("takes non-negative safe integers only", () => {
    expect([0, 1, 2 ** 53 - 1, 2 ** 53, -1, 1.5, "1", NaN].map(isRebuildCounter)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("pairs each color with the other", () => {
    expect([otherColor("blue"), otherColor("green")]).toEqual(["green", "blue"]);
  });
});
