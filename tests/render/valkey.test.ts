/**
 * Valkey and Sentinel: exact lines, and the real valkey-server/valkey-sentinel started from the
 * rendered files on 127.0.20.41-43 (never the lab's 127.0.10.x).
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Layout, NODE_NAMES, NodeName } from "../../cloud-init/layout";
import { renderMessageValkey, renderSentinel, renderTokenValkey } from "../../cloud-init/valkey";
import { acquireLock, cloudLayout, localLayout, materialise, run, stopChildren, tempDir } from "./helpers";

const cloud = cloudLayout();
const lines = (text: string): string[] => text.split("\n");

describe("rendered Valkey and Sentinel files", () => {
  it("token Valkey: bind, auth, AOF, never evicts, sized for the gate", () => {
    const text = lines(renderTokenValkey(cloud));
    for (const line of [
      "bind 10.0.1.10 127.0.0.1",
      "port 6379",
      "protected-mode yes",
      "requirepass sample-valkey-password-0000",
      "appendonly yes",
      "appendfsync everysec",
      "maxmemory 256mb",
      "maxmemory-policy noeviction",
      "dir /var/lib/valkey",
      "pidfile /run/valkey/valkey-server.pid",
      "logfile /var/log/valkey/valkey-server.log",
    ]) {
      expect(text).toContain(line);
    }
    expect(text.some((l) => l.startsWith("replicaof"))).toBe(false);
  });

  it("message Valkey: blue is master, green replicates blue (fixed bootstrap)", () => {
    const blue = lines(renderMessageValkey(cloud, "blue"));
    const green = lines(renderMessageValkey(cloud, "green"));
    expect(blue).toContain("masterauth sample-valkey-password-0000");
    expect(blue).toContain("replica-announce-ip 10.0.2.10");
    expect(blue).toContain("maxmemory 2048mb");
    expect(blue.some((l) => l.startsWith("replicaof"))).toBe(false);
    expect(green).toContain("replica-announce-ip 10.0.2.11");
    expect(green).toContain("replicaof 10.0.2.10 6379");
    expect(green).toContain("appendonly yes");
  });

  it.each(NODE_NAMES)("Sentinel on %s: monitor, timers, auth and announce-ip, monitor first", (node) => {
    const text = lines(renderSentinel(cloud, node));
    const ip = cloud.nodes[node].privateIp;
    for (const line of [
      "port 26379",
      `bind ${ip} 127.0.0.1`,
      `sentinel announce-ip ${ip}`,
      "sentinel monitor mymaster 10.0.2.10 6379 2",
      "sentinel down-after-milliseconds mymaster 5000",
      "sentinel failover-timeout mymaster 60000",
      "sentinel auth-pass mymaster sample-valkey-password-0000",
      "requirepass sample-sentinel-password-0000",
      "sentinel sentinel-pass sample-sentinel-password-0000",
      "sentinel resolve-hostnames no",
      "dir /var/lib/valkey",
    ]) {
      expect(text).toContain(line);
    }
    const monitor = text.indexOf("sentinel monitor mymaster 10.0.2.10 6379 2");
    expect(text.findIndex((l) => l.startsWith("sentinel auth-pass"))).toBeGreaterThan(monitor);
    expect(text.findIndex((l) => l.startsWith("sentinel down-after-milliseconds"))).toBeGreaterThan(monitor);
  });
});

describe("valkey-server and valkey-sentinel load the rendered files (real Valkey)", () => {
  const dir = tempDir("valkey");
  let layout: Layout;
  const children: ChildProcess[] = [];
  const password = "test-valkey-password-123456";
  const sentinelPassword = "test-sentinel-password-123456";

  const cli = (node: NodeName, port: number, args: string[], auth?: string): string => {
    const env = auth === undefined ? [] : ["-a", auth, "--no-auth-warning"];
    const result = run(
      "valkey-cli",
      ["-h", layout.nodes[node].privateIp, "-p", String(port), ...env, ...args],
      5_000,
    );
    return `${result.stdout}${result.stderr}`.trim();
  };

  async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (check()) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  let releaseLock = (): void => undefined;

  beforeAll(async () => {
    releaseLock = await acquireLock("127.0.20.41-43");
    layout = localLayout(dir, 40, {
      secrets: { valkeyPassword: password, sentinelPassword, tlsPem: "" },
    });
    for (const node of NODE_NAMES) {
      materialise(layout, node);
      for (const sub of ["var/lib/valkey", "var/log/valkey", "run/valkey", "run/sentinel"]) {
        fs.mkdirSync(path.join(dir, node, sub), { recursive: true });
      }
    }
    // Masters first, so that the replica and the Sentinels find blue at once.
    for (const node of ["blue", "gate", "green"] as const) {
      children.push(
        spawn("valkey-server", [path.join(dir, node, "etc/valkey/valkey.conf")], { stdio: "ignore" }),
      );
    }
    for (const node of NODE_NAMES) {
      children.push(
        spawn("valkey-sentinel", [path.join(dir, node, "etc/valkey/sentinel.conf")], { stdio: "ignore" }),
      );
    }
    for (const node of NODE_NAMES) {
      await waitFor(() => cli(node, 16379, ["ping"], password) === "PONG", `Valkey on ${node}`);
      await waitFor(() => cli(node, 26380, ["ping"], sentinelPassword) === "PONG", `Sentinel on ${node}`);
    }
  });

  afterAll(async () => {
    // Valkey refuses to exit while it cannot write its final AOF/RDB: stop it before removing its dir.
    await stopChildren(children);
    fs.rmSync(dir, { recursive: true, force: true });
    releaseLock();
  });

  it.each(NODE_NAMES)("Valkey on %s answers PING with the password and NOAUTH without", (node) => {
    const withPassword = cli(node, 16379, ["ping"], password);
    const without = cli(node, 16379, ["ping"]);
    console.log(
      `valkey-cli -h ${layout.nodes[node].privateIp} -p 16379 ping: with password: ${withPassword}; without: ${without}`,
    );
    expect(withPassword).toBe("PONG");
    expect(without).toMatch(/^NOAUTH /);
  });

  it.each(NODE_NAMES)("Sentinel on %s answers PING with its password and NOAUTH without", (node) => {
    const withPassword = cli(node, 26380, ["ping"], sentinelPassword);
    const without = cli(node, 26380, ["ping"]);
    console.log(
      `valkey-cli -h ${layout.nodes[node].privateIp} -p 26380 ping: with password: ${withPassword}; without: ${without}`,
    );
    expect(withPassword).toBe("PONG");
    expect(without).toMatch(/^NOAUTH /);
  });

  it("green replicates blue with the password, and each Sentinel sees blue as master", async () => {
    await waitFor(
      () => cli("green", 16379, ["info", "replication"], password).includes("master_link_status:up"),
      "green's replication link",
    );
    expect(cli("green", 16379, ["info", "replication"], password)).toContain("role:slave");
    for (const node of NODE_NAMES) {
      expect(cli(node, 26380, ["sentinel", "get-master-addr-by-name", "mymaster"], sentinelPassword)).toBe(
        `${layout.nodes.blue.privateIp}\n16379`,
      );
    }
    // The Sentinels find each other (with sentinel-pass) and rewrite their own files.
    await waitFor(
      () =>
        /num-other-sentinels\n2/.test(
          cli("gate", 26380, ["sentinel", "master", "mymaster"], sentinelPassword),
        ),
      "the three Sentinels to know each other",
      20_000,
    );
    const rewritten = fs.readFileSync(path.join(dir, "gate/etc/valkey/sentinel.conf"), "utf8");
    expect(rewritten).toContain("sentinel known-sentinel mymaster");
  });
});
