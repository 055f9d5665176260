/**
 * The pipeline's shell commands, checked by their real tools: shellcheck on the switch and release
 * commands and on the promote script, and the promote script run by bash against a stub valkey-cli
 * that plays Sentinel (records its arguments and the REDISCLI_AUTH it got).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { promoteMasterBody, releaseCommand, switchCommand } from "../../bluegreen/commands";

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
        targetIp: "10.0.2.11",
      }),
    ],
    [
      "switch (without promote)",
      switchCommand({
        color: "blue",
        drainSeconds: 0,
        messageMasterFollowsActive: false,
        targetIp: "10.0.2.10",
      }),
    ],
    ["release", releaseCommand("yq-green", "release/2026.11")],
    ["promote body", promoteMasterBody("10.0.2.11")],
  ])("reports nothing on the %s command", (name, text) => {
    const result = shellcheck(`${name.replace(/\W+/g, "-")}.sh`, text);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

/** A node root with env files, and a stub valkey-cli on PATH whose master flips on FAILOVER if asked. */
function sentinelStub(
  master: string,
  flipsTo: string | null,
): { root: string; env: NodeJS.ProcessEnv; log: string } {
  const root = fs.mkdtempSync(path.join(dir, "node-"));
  fs.mkdirSync(path.join(root, "etc/yquant"), { recursive: true });
  fs.mkdirSync(path.join(root, "bin"));
  fs.writeFileSync(path.join(root, "etc/yquant/node.env"), "NODE_LOOPBACK=127.0.10.1\nSENTINEL_PORT=26379\n");
  fs.writeFileSync(
    path.join(root, "etc/yquant/valkey.env"),
    "VALKEY_PASSWORD=vpw\nSENTINEL_PASSWORD=StubSentinelSecret\n",
  );
  fs.writeFileSync(path.join(root, "master"), `${master}\n`);
  const log = path.join(root, "calls.log");
  fs.writeFileSync(
    path.join(root, "bin/valkey-cli"),
    [
      "#!/usr/bin/env bash",
      `echo "auth=\${REDISCLI_AUTH:-} args=$*" >> ${log}`,
      'case "$*" in',
      `  *GET-MASTER-ADDR-BY-NAME*) cat ${root}/master; echo 6379 ;;`,
      `  *"SENTINEL FAILOVER"*) ${flipsTo ? `echo ${flipsTo} > ${root}/master;` : ""} echo OK ;;`,
      "esac",
    ].join("\n"),
    { mode: 0o755 },
  );
  return { root, env: { ...process.env, PATH: `${path.join(root, "bin")}:${process.env["PATH"]}` }, log };
}

describe("the promote script against a stub Sentinel", () => {
  it("does nothing when the master already is the target", () => {
    const stub = sentinelStub("10.0.2.11", null);
    const r = spawnSync("bash", ["-c", promoteMasterBody("10.0.2.11", "mymaster", 2, stub.root)], {
      env: stub.env,
      encoding: "utf8",
    });
    expect([r.status, r.stdout.trim()]).toEqual([0, "promote: the message master is already 10.0.2.11"]);
    expect(fs.readFileSync(stub.log, "utf8")).not.toContain("FAILOVER");
  });

  it("fails over when the master is the other engine, with the password only in REDISCLI_AUTH", () => {
    const stub = sentinelStub("10.0.2.10", "10.0.2.11");
    const r = spawnSync("bash", ["-c", promoteMasterBody("10.0.2.11", "mymaster", 4, stub.root)], {
      env: stub.env,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      "promote: message master is 10.0.2.10; SENTINEL FAILOVER mymaster to 10.0.2.11",
      "OK",
      "promote: the message master is now 10.0.2.11",
    ]);
    const calls = fs.readFileSync(stub.log, "utf8").trim().split("\n");
    expect(calls).toContain(
      "auth=StubSentinelSecret args=--no-auth-warning -h 127.0.10.1 -p 26379 SENTINEL FAILOVER mymaster",
    );
    expect(
      calls.every(
        (c) => c.startsWith("auth=StubSentinelSecret ") && !c.slice(23).includes("StubSentinelSecret"),
      ),
    ).toBe(true);
  });

  it("gives up after the bounded wait with a message, exit 1", () => {
    const stub = sentinelStub("10.0.2.10", null);
    const started = Date.now();
    const r = spawnSync("bash", ["-c", promoteMasterBody("10.0.2.11", "mymaster", 2, stub.root)], {
      env: stub.env,
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      "promote: Sentinel still reports 10.0.2.10 as master after 2s; traffic was switched, the message master was not moved (see docs/runbooks/valkey-failure.md)",
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
