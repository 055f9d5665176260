/** cloud-init schema on each node's user data, and shellcheck on every script. */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NODE_NAMES } from "../../cloud-init/layout";
import { SCRIPT_NAMES, renderUserData } from "../../cloud-init/user-data";
import { SCRIPTS_DIR, cloudLayout, localLayout, run, tempDir } from "./helpers";
import { MONITORING_SCRIPTS } from "../../cloud-init/monitoring";
import { readScript } from "../../cloud-init/scripts";

describe("cloud-init schema --config-file", () => {
  const dir = tempDir("schema");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const layouts = { cloud: cloudLayout(), lab: localLayout("/srv/lab", 0) };
  for (const [kind, layout] of Object.entries(layouts)) {
    it.each(NODE_NAMES)(`accepts the ${kind} user data of %s`, (node) => {
      const file = path.join(dir, `${kind}-${node}.yaml`);
      fs.writeFileSync(file, renderUserData(layout, node));
      const result = run("cloud-init", ["schema", "--config-file", file]);
      const output = `${result.stdout}${result.stderr}`.trim();
      console.log(`cloud-init schema --config-file ${kind}-${node}.yaml: exit ${result.status}: ${output}`);
      expect(result.status, output).toBe(0);
      expect(output).toContain("Valid cloud-config");
    });
  }
});

/** Every script of cloud-init/scripts: the user data's, and converge.sh (installed by its command). */
const ALL_SCRIPTS = fs
  .readdirSync(SCRIPTS_DIR)
  .filter((f) => f.endsWith(".sh"))
  .map((f) => f.slice(0, -3))
  .sort();

describe("shellcheck", () => {
  it("covers every script: the user data's and converge.sh", () => {
    expect(ALL_SCRIPTS).toEqual([...SCRIPT_NAMES, ...MONITORING_SCRIPTS, "converge"].sort());
  });

  // The script as a node gets it (its lib/ parts in place), so every part is checked where it runs.
  const rendered = tempDir("shellcheck");
  afterAll(() => fs.rmSync(rendered, { recursive: true, force: true }));

  it.each(ALL_SCRIPTS)("reports nothing on %s.sh as installed", (script) => {
    const file = path.join(rendered, `${script}.sh`);
    fs.writeFileSync(file, readScript(script));
    const result = run("shellcheck", ["--severity=style", "--shell=bash", file]);
    const output = `${result.stdout}${result.stderr}`;
    console.log(
      `shellcheck ${script}.sh: exit ${result.status}${output.trim() === "" ? " (no findings)" : `\n${output}`}`,
    );
    expect(result.status, output).toBe(0);
    expect(output).toBe("");
  });

  it.each(ALL_SCRIPTS)("%s.sh is executable, strict and starts with a bash shebang", (script) => {
    const file = path.join(SCRIPTS_DIR, `${script}.sh`);
    const text = fs.readFileSync(file, "utf8");
    // switch-active.sh names /bin/bash itself: one process start less on the switch's path (9b5bb8b).
    expect(text.split("\n")[0]).toBe(script === "switch-active" ? "#!/bin/bash" : "#!/usr/bin/env bash");
    expect(text).toContain("\nset -euo pipefail\n");
    expect(fs.statSync(file).mode & 0o111).not.toBe(0);
  });
});
