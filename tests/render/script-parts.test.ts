/**
 * The scripts' shared parts (cloud-init/scripts/lib/): which script sources which, and that a node
 * gets each script whole, with the parts in place of the lines that source them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { convergeScript } from "../../cloud-init/converge";
import { MONITORING_SCRIPTS } from "../../cloud-init/monitoring";
import { SCRIPTS_DIR, partBody, readScript, sourcedParts } from "../../cloud-init/scripts";
import { SCRIPT_NAMES } from "../../cloud-init/user-data";

const source = (name: string): string => fs.readFileSync(path.join(SCRIPTS_DIR, `${name}.sh`), "utf8");
const part = (name: string): string => fs.readFileSync(path.join(SCRIPTS_DIR, "lib", `${name}.sh`), "utf8");
const SCRIPTS = [...SCRIPT_NAMES, ...MONITORING_SCRIPTS, "converge"];

describe("script parts", () => {
  it("each script sources these parts, and every part is sourced", () => {
    const parts = Object.fromEntries(SCRIPTS.map((name) => [name, sourcedParts(source(name))]));
    expect(parts).toEqual({
      setup: ["node-root"],
      deploy: ["node-root"],
      "health-check": ["node-env", "node-root"],
      "switch-active": [],
      "promote-master": ["node-root"],
      "node-metrics": ["node-root"],
      "sentinel-event": ["node-root"],
      converge: ["node-env", "node-root", "converge-firewall", "converge-plan"],
    });
    const used = new Set(Object.values(parts).flat());
    const files = fs.readdirSync(path.join(SCRIPTS_DIR, "lib")).map((f) => f.replace(/\.sh$/, ""));
    expect([...used].sort()).toEqual(files.sort());
  });

  it.each(SCRIPTS)("%s.sh as installed sources nothing from lib/ and holds each part once", (name) => {
    const text = readScript(name);
    expect(text).not.toMatch(/lib\/[a-z-]+\.sh"/);
    expect(text).not.toContain("# shellcheck source=cloud-init/scripts/lib/");
    for (const p of sourcedParts(source(name))) {
      // A part's own lines, between the lines that source other parts.
      const chunks = partBody(part(p))
        .split(/^.*lib\/.*$/m)
        .filter((chunk) => chunk.trim() !== "");
      for (const chunk of chunks) expect(text.split(chunk).length - 1, `${name}: lib/${p}.sh`).toBe(1);
    }
  });

  it("puts a part in place of its two source lines, and keeps everything else byte for byte", () => {
    const text = readScript("deploy");
    const [before, after] = source("deploy").split(
      '# shellcheck source=cloud-init/scripts/lib/node-root.sh\nsource "${BASH_SOURCE[0]%/*}/lib/node-root.sh"\n',
    );
    expect(text).toBe(`${before}${partBody(part("node-root"))}\n${after}`);
  });

  it("a part keeps its code and shellcheck directives, not its other comment lines", () => {
    expect(
      partBody("# doc\n  # indented doc\n# shellcheck source=/dev/null\nsource x\ny=1 # trailing\n"),
    ).toBe("# shellcheck source=/dev/null\nsource x\ny=1 # trailing");
  });

  it("a script without parts is installed as it is in the repository", () => {
    expect(readScript("switch-active")).toBe(source("switch-active"));
  });

  it("the converge command installs converge.sh with its parts in place", () => {
    expect(convergeScript()).toBe(readScript("converge"));
    expect(convergeScript()).toContain("\napply_firewall_rules() {\n");
    expect(convergeScript()).toContain(
      "\nplan_valkey() { # $1 new file, $2 last applied (or the live file), $3 target (default local)\n",
    );
    expect(convergeScript()).toContain('\n[[ ${YQ_ROOT} == "/" ]] && YQ_ROOT=""\nexport YQ_ROOT\n');
  });
});
