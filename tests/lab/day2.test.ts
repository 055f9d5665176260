/**
 * Day-2 operations in the lab, on real HAProxy, Valkey and Sentinel processes: a release already in
 * force is a no-op for deploy.sh (no restart), and configuration converges under live load
 * (lab/scenarios/s9-converge-under-load.ts). Timings come from `npm run lab -- bench`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convergeEntries, convergeScript, renderConvergeBundle } from "../../cloud-init/converge";
import { convergeCommand } from "../../components/converge";
import { Lab } from "../../lab/lab";
import { convergeNode } from "../../lab/converge";
import { convergeUnderLoad } from "../../lab/scenarios/s9-converge-under-load";
import { gateRebuild } from "../../lab/scenarios/s15-gate-rebuild";
import { MESSAGE_REPLICA_UNIT } from "../../cloud-init/valkey";
import { respCommand } from "../../lab/resp";
import { labDown, labUp, log } from "./helpers";

let lab: Lab;

beforeAll(async () => {
  lab = await labUp();
});

afterAll(async () => {
  if (lab) await labDown(lab);
});

describe("deploy.sh", () => {
  it("does nothing when the release asked for is already in force: same app process, exit 0", async () => {
    const first = await lab.runScript("green", "deploy", ["v-day2"], 120_000);
    expect(first.status, first.stderr).toBe(0);
    const pid = lab.pid("green", "yquant-frontend");
    expect(pid).not.toBeNull();
    const again = await lab.runScript("green", "deploy", ["v-day2"], 120_000);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(
      "deploy.sh[green]: release v-day2 already in force and healthy: nothing to do (no rebuild, no restart)",
    );
    expect(lab.pid("green", "yquant-frontend")).toBe(pid);
    const forced = await lab.runScript("green", "deploy", ["--force", "v-day2"], 120_000);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toContain("release v-day2 in force and healthy");
    expect(lab.pid("green", "yquant-frontend")).not.toBe(pid);
    const back = await lab.runScript("green", "deploy", ["placeholder"], 120_000);
    expect(back.status, back.stderr).toBe(0);
  });
});

describe("converge.sh", () => {
  it("runs nothing on a node whose files are all in force", async () => {
    for (const node of ["green", "blue", "gate"] as const) {
      const r = await convergeNode(lab, lab.layout, node);
      expect([r.status, r.stdout.trim()]).toEqual([
        0,
        `converge.sh[${node}]: every file is in force: nothing to do`,
      ]);
    }
  });

  it("runs from the stack's command text as the remote Command does: installs converge.sh, stdin reaches it", () => {
    const bin = path.join(lab.root("green"), "opt", "yquant", "bin");
    fs.rmSync(path.join(bin, "converge.sh"), { force: true });
    const shims = fs.mkdtempSync(path.join(os.tmpdir(), "yq-shims-"));
    fs.writeFileSync(path.join(shims, "sudo"), '#!/bin/sh\nexec "$@"\n', { mode: 0o755 });
    fs.writeFileSync(path.join(shims, "cloud-init"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const text = convergeCommand("yq-green", convergeScript()).replaceAll("/opt/yquant/bin", bin);
    const r = spawnSync("bash", ["-c", text], {
      input: renderConvergeBundle(convergeEntries(lab.layout, "green")),
      encoding: "utf8",
      env: { ...process.env, PATH: `${shims}:${process.env.PATH ?? ""}` },
      timeout: 60_000,
    });
    fs.rmSync(shims, { recursive: true, force: true });
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([
      0,
      "converge.sh[green]: every file is in force: nothing to do",
      "",
    ]);
    expect(fs.readFileSync(path.join(bin, "converge.sh"), "utf8")).toBe(convergeScript());
    expect(fs.statSync(path.join(bin, "converge.sh")).mode & 0o777).toBe(0o755);
  });

  it("refuses a setting that cannot change at runtime, before writing anything", async () => {
    const moved = { ...lab.layout, ports: { ...lab.layout.ports, valkey: lab.layout.ports.valkey + 1 } };
    const r = await convergeNode(lab, moved, "green");
    expect(r.status).toBe(1);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      "converge.sh: refused: valkey port: cannot change at runtime; it needs a restart of this Valkey (docs/runbooks/day2.md)",
      "converge.sh: nothing was changed on green",
    ]);
    const still = await convergeNode(lab, lab.layout, "green");
    expect(still.stdout.trim()).toBe("converge.sh[green]: every file is in force: nothing to do");
  });

  it("brings a new message store maxmemory into the gate's replica at runtime (CONFIG SET, no restart)", async () => {
    const replica = {
      host: lab.address("gate"),
      port: lab.layout.ports.replica,
      username: "admin",
      password: lab.layout.secrets.users.messageAdmin,
    };
    const pid = lab.pid("gate", MESSAGE_REPLICA_UNIT);
    expect(pid).not.toBeNull();
    const changed = { ...lab.layout, messageMaxmemoryMb: lab.layout.messageMaxmemoryMb + 1 };
    const r = await convergeNode(lab, changed, "gate");
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain("converge.sh[gate]: replica: CONFIG SET maxmemory ...");
    expect(await respCommand(replica, "CONFIG", "GET", "maxmemory")).toEqual([
      "maxmemory",
      String((lab.layout.messageMaxmemoryMb + 1) * 1024 * 1024),
    ]);
    expect(lab.pid("gate", MESSAGE_REPLICA_UNIT)).toBe(pid);
    const back = await convergeNode(lab, lab.layout, "gate");
    expect(back.status, back.stderr).toBe(0);
    expect((await convergeNode(lab, lab.layout, "gate")).stdout.trim()).toBe(
      "converge.sh[gate]: every file is in force: nothing to do",
    );
  });

  it("refuses a message store maxmemory below what the store holds, before writing anything", async () => {
    const admin = { username: "admin", password: lab.layout.secrets.users.messageAdmin };
    const engine = (color: "blue" | "green") => ({
      host: lab.address(color),
      port: lab.layout.ports.valkey,
      ...admin,
    });
    const roles = await Promise.all([
      respCommand(engine("blue"), "ROLE"),
      respCommand(engine("green"), "ROLE"),
    ]);
    const master = engine((roles[0] as string[])[0] === "master" ? "blue" : "green");
    const replica = { host: lab.address("gate"), port: lab.layout.ports.replica, ...admin };
    expect(await respCommand(master, "SET", "yq:test:big", "x".repeat(3_000_000))).toBe("OK");
    try {
      for (let i = 0; i < 100 && (await respCommand(replica, "EXISTS", "yq:test:big")) !== 1; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const r = await convergeNode(lab, { ...lab.layout, messageMaxmemoryMb: 2 }, "gate");
      expect(r.status).toBe(1);
      const lines = r.stderr.split("\n").filter(Boolean);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(
        /^converge\.sh: refused: replica maxmemory: 2097152 bytes is below the \d{7,} this Valkey holds \(used_memory\); every write would fail \(noeviction\): free data first, or keep the larger maxmemory$/,
      );
      expect(lines[1]).toBe("converge.sh: nothing was changed on gate");
      expect(await respCommand(replica, "CONFIG", "GET", "maxmemory")).toEqual([
        "maxmemory",
        String(lab.layout.messageMaxmemoryMb * 1024 * 1024),
      ]);
    } finally {
      await respCommand(master, "DEL", "yq:test:big");
    }
  });

  it("converges adminCidrs and a Sentinel setting under live load: 0 failed, in force everywhere, tokens intact", async () => {
    const f = await convergeUnderLoad({ lab, log });
    expect(f.get("failedRequests")).toBe(0);
    expect(f.get("requests") as number).toBeGreaterThanOrEqual(8000);
    expect(f.get("convergeExitCodes")).toBe("0,0,0");
    expect(f.get("sentinelsWithNewSetting")).toBe(3);
    expect(f.get("haproxyAdminAclInForce")).toBe(true);
    expect(f.get("messageMasterKept")).toBe(true);
    expect(f.get("tokensLost")).toBe(0);
    expect(f.get("secondConvergeIdleNodes")).toBe(3);
    expect(f.get("restoredExit")).toBe(true);
  });
});

describe("gate rebuild (scenario 15)", () => {
  it("wipes the gate but its token volume, materialises it from its user data under load: 0 tokens lost", async () => {
    const f = await gateRebuild({ lab, log });
    expect([f.get("setupExit"), f.get("switchExit")]).toEqual([0, 0]);
    expect([f.get("tokensAcknowledged"), f.get("tokensLost")]).toEqual([1000, 0]);
    expect(f.get("gateSentinelAgrees")).toBe(true);
    // The outage is measured by the bench (npm run lab -- bench --only 15); here only that there was one.
    expect(f.get("failedRequests")).toBeGreaterThan(0);
    expect(f.get("outageMs")).toBeGreaterThan(0);
  });
});
