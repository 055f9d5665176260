/**
 * The pipeline's shell commands, checked by their real tool (shellcheck), and the switch's steps, which
 * the lab's `switch` runs too. promote-master.sh itself runs against real Valkey and Sentinel in the
 * lab (tests/lab, scenario 10).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { installScriptCommand, releaseCommand, switchCommand, switchSteps } from "../../bluegreen/commands";
import { deliveredScript } from "../../cloud-init/node-files";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipeline-commands-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function shellcheck(name: string, text: string): { status: number | null; output: string } {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/usr/bin/env bash\n${text}\n`);
  // SC1091: the sourced env files exist only on the node.
  const r = spawnSync("shellcheck", ["--severity=style", "--shell=bash", "--exclude=SC1091", file], {
    encoding: "utf8",
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("shellcheck", () => {
  it.each([
    [
      "switch (with promote)",
      switchCommand({
        color: "green",
        drainSeconds: 30,
        messageMasterFollowsActive: true,
      }),
    ],
    [
      "switch (without promote)",
      switchCommand({
        color: "blue",
        drainSeconds: 0,
        messageMasterFollowsActive: false,
      }),
    ],
    ["release", releaseCommand("yq-green", "release/2026.11")],
  ])("reports nothing on the %s command", (name, text) => {
    const result = shellcheck(`${name.replace(/\W+/g, "-")}.sh`, text);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("switch steps", () => {
  it("are switch-active.sh, then promote-master.sh when the master follows the active color", () => {
    expect(switchSteps({ color: "green", drainSeconds: 30, messageMasterFollowsActive: true })).toEqual([
      ["switch-active.sh", "green", "--drain", "30"],
      ["promote-master.sh", "green"],
    ]);
    expect(switchSteps({ color: "blue", drainSeconds: 0, messageMasterFollowsActive: false })).toEqual([
      ["switch-active.sh", "blue", "--drain", "0"],
    ]);
  });

  it("are what the switch command runs, each as root", () => {
    const lines = switchCommand({ color: "green", drainSeconds: 5, messageMasterFollowsActive: true }).split(
      "\n",
    );
    expect(lines.at(-1)).toBe("sudo /opt/yquant/bin/promote-master.sh green");
    const install = installScriptCommand("promote-master").split("\n");
    expect(lines.slice(-2 - install.length)).toEqual([
      "sudo /opt/yquant/bin/switch-active.sh green --drain 5",
      ...install,
      "sudo /opt/yquant/bin/promote-master.sh green",
    ]);
  });

  it("install promote-master.sh on the gate from the same text the lab installs, atomically", () => {
    const install = installScriptCommand("promote-master").split("\n");
    expect(install[0]).toBe("sudo tee /opt/yquant/bin/promote-master.sh.new >/dev/null <<'YQ_SCRIPT'");
    expect(install.slice(1, -3).join("\n") + "\n").toBe(deliveredScript("promote-master"));
    expect(install.slice(-3)).toEqual([
      "YQ_SCRIPT",
      "sudo chmod 0755 /opt/yquant/bin/promote-master.sh.new",
      "sudo mv -f /opt/yquant/bin/promote-master.sh.new /opt/yquant/bin/promote-master.sh",
    ]);
  });
});
