/** The lab's partition rules (lab/partition.ts): exact, per node, both directions. Starts no process. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { labLayout } from "../../lab/layout";
import { PARTITION_CHAIN, currentNetns, partitionRules } from "../../lab/partition";
import { sampleUserPasswords } from "../../tools/sample-layout";

const layout = labLayout({
  dir: "/nonexistent",
  privilegedPorts: false,
  secrets: { valkeyPassword: "v", sentinelPassword: "s", tlsPem: "", users: sampleUserPasswords("x") },
});

describe("partitionRules", () => {
  it("cuts blue off from the gate and green, both directions, and nothing else", () => {
    expect(partitionRules(layout, "blue").map((r) => r.join(" "))).toEqual([
      "-s 127.0.10.2/32 -d 127.0.10.1/32 -j DROP",
      "-s 127.0.10.1/32 -d 127.0.10.2/32 -j DROP",
      "-s 127.0.10.2/32 -d 127.0.10.3/32 -j DROP",
      "-s 127.0.10.3/32 -d 127.0.10.2/32 -j DROP",
    ]);
  });

  it("gives each node 2 rules per peer, never one that names 127.0.0.1 (the scenarios' clients)", () => {
    for (const node of ["gate", "blue", "green"] as const) {
      const rules = partitionRules(layout, node);
      expect(rules).toHaveLength(4);
      expect(rules.flat().some((a) => a.startsWith("127.0.0.1"))).toBe(false);
    }
    expect(PARTITION_CHAIN).toBe("YQ-LAB-PARTITION");
  });
});

describe("currentNetns", () => {
  it("is null when no named namespace is this process's (partition and heal then refuse)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "yq-netns-"));
    fs.writeFileSync(path.join(dir, "other"), "");
    expect(currentNetns(dir)).toBeNull();
    expect(currentNetns(path.join(dir, "missing"))).toBeNull();
    fs.rmSync(dir, { recursive: true });
  });
});
