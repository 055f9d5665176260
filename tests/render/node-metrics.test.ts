/**
 * node-metrics.sh on the gate, run once against a materialised root: yquant_switch_running follows
 * whether some process holds switch.lock (looked up in /proc/locks, so the script never takes the
 * lock a switch takes without waiting), and without an answering HAProxy the runtime map metrics
 * (yquant_live_color, yquant_drain_end_timestamp_seconds) are absent, which LiveColorUnknown and
 * HaproxyDown report. The map metrics with a real HAProxy are shown by tests/lab/monitoring.test.ts
 * (nothing fires at rest, ActiveAppDown fires for the live color).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localLayout, materialise, tempDir } from "./helpers";

const dir = tempDir("node-metrics");
const layout = localLayout(dir, 110, { serviceControl: "/bin/true" });
const root = path.join(dir, "gate");
const script = path.join(root, "opt/yquant/bin/node-metrics.sh");
const lock = path.join(root, "var/lib/yquant/switch.lock");
const prom = path.join(root, "var/lib/yquant/metrics/node.prom");

function once(): string[] {
  const r = spawnSync(script, ["--once"], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`node-metrics.sh exited ${r.status}: ${r.stderr}`);
  return fs
    .readFileSync(prom, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("yquant_") && !l.startsWith("yquant_node_metrics_timestamp_seconds"));
}

beforeAll(() => {
  materialise(layout, "gate");
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  fs.writeFileSync(lock, "");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("node-metrics.sh on the gate", () => {
  it("reports no switch while nobody holds switch.lock, and no map metrics without HAProxy", () => {
    expect(once()).toEqual(["yquant_switch_running 0"]);
  });

  it("reports a switch while another process holds switch.lock, without taking it", async () => {
    const holder = spawn("flock", [lock, "sleep", "20"], { stdio: "ignore" });
    try {
      // Wait until the holder has the lock (flock -n fails).
      for (let i = 0; i < 100 && spawnSync("flock", ["-n", lock, "true"]).status === 0; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(spawnSync("flock", ["-n", lock, "true"]).status).toBe(1);
      expect(once()).toEqual(["yquant_switch_running 1"]);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("leaves the lock free for a switch while it runs (no flock of its own on switch.lock)", () => {
    const text = fs.readFileSync(script, "utf8");
    expect(text).not.toMatch(/flock[^\n]*switch\.lock/);
    expect(text).toContain("/proc/locks");
  });
});
