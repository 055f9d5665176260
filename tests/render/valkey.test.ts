/**
 * Valkey and Sentinel: exact lines, and the real valkey-server/valkey-sentinel started from the
 * rendered files on 127.0.20.41-43 (never the lab's 127.0.10.x). The servers are the first on PATH:
 * CI has Valkey 8 (bookworm-backports); for Ubuntu 24.04's 7.2, put a 7.2 build first on PATH and run
 * this file alone (docs/valkey.md, "Valkey 7.2 and 8.0").
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Layout, NODE_NAMES, NodeName } from "../../cloud-init/layout";
import { sampleUserPasswords } from "../../tools/sample-layout";
import { TOKEN_DATA_DIR } from "../../cloud-init/token-volume";
import {
  ACL_RIGHTS,
  renderMessageReplica,
  renderMessageValkey,
  renderSentinel,
  renderTokenValkey,
} from "../../cloud-init/valkey";
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
      "user default off",
      `user app on >sample-tokenApp-password-0000 ${ACL_RIGHTS.app}`,
      `user admin on >sample-tokenAdmin-password-0000 ${ACL_RIGHTS.admin}`,
      `user monitor on >sample-tokenMonitor-password-0000 ${ACL_RIGHTS.monitor}`,
      "appendonly yes",
      "appendfsync everysec",
      "maxmemory 256mb",
      "maxmemory-policy noeviction",
      // On the token volume (cloud-init/token-volume.ts), not the boot volume.
      "dir /srv/yquant-tokens/valkey",
      "pidfile /run/valkey/valkey-server.pid",
      "logfile /var/log/valkey/valkey-server.log",
    ]) {
      expect(text).toContain(line);
    }
    expect(text.some((l) => l.startsWith("replicaof"))).toBe(false);
    expect(text.filter((l) => l.startsWith("dir "))).toEqual(["dir /srv/yquant-tokens/valkey"]);
  });

  it("message Valkey: blue is master, green replicates blue (fixed bootstrap)", () => {
    const blue = lines(renderMessageValkey(cloud, "blue"));
    const green = lines(renderMessageValkey(cloud, "green"));
    expect(blue.filter((l) => l.startsWith("user "))).toEqual([
      "user default off",
      `user app on >sample-valkey-password-0000 ${ACL_RIGHTS.app}`,
      `user admin on >sample-messageAdmin-password-0000 ${ACL_RIGHTS.admin}`,
      `user replication on >sample-messageReplication-password-0000 ${ACL_RIGHTS.replication}`,
      `user sentinel on >sample-messageSentinel-password-0000 ${ACL_RIGHTS.sentinel}`,
      `user monitor on >sample-messageMonitor-password-0000 ${ACL_RIGHTS.monitor}`,
    ]);
    expect(blue).toContain("masteruser replication");
    expect(blue).toContain("masterauth sample-messageReplication-password-0000");
    expect(blue.some((l) => l.startsWith("requirepass"))).toBe(false);
    expect(blue).toContain("replica-announce-ip 10.0.2.10");
    expect(blue).toContain("maxmemory 32mb");
    expect(blue.some((l) => l.startsWith("replicaof"))).toBe(false);
    expect(green).toContain("replica-announce-ip 10.0.2.11");
    expect(green).toContain("replicaof 10.0.2.10 6379");
    expect(green).toContain("appendonly yes");
    // Either engine can be master: both refuse writes once no replica acknowledged for 2 s.
    for (const engine of [blue, green]) {
      expect(engine.filter((l) => l.startsWith("min-replicas-"))).toEqual([
        "min-replicas-to-write 1",
        "min-replicas-max-lag 2",
      ]);
    }
  });

  it("message replica on the gate: never promoted, replicates blue, the message store's users", () => {
    expect(lines(renderMessageReplica(cloud, "gate"))).toEqual([
      "# Rendered by yquant-infra (cloud-init/valkey.ts): message store replica on gate, never promoted.",
      "bind 10.0.1.10 127.0.0.1",
      "port 6380",
      "protected-mode yes",
      "daemonize no",
      "pidfile /run/valkey-replica/valkey-server.pid",
      "logfile /var/log/valkey/valkey-server-replica.log",
      "loglevel notice",
      "dir /var/lib/valkey",
      "dbfilename replica.rdb",
      "user default off",
      "appendonly no",
      'save ""',
      "rdb-del-sync-files yes",
      "maxmemory 32mb",
      "maxmemory-policy noeviction",
      `user admin on >sample-messageAdmin-password-0000 ${ACL_RIGHTS.admin}`,
      `user sentinel on >sample-messageSentinel-password-0000 ${ACL_RIGHTS.sentinel}`,
      `user monitor on >sample-messageMonitor-password-0000 ${ACL_RIGHTS.monitor}`,
      "masteruser replication",
      "masterauth sample-messageReplication-password-0000",
      "replica-announce-ip 10.0.1.10",
      "bind-source-addr 10.0.1.10",
      "replica-read-only yes",
      "replica-priority 0",
      "replicaof 10.0.2.10 6379",
      "",
    ]);
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
      "sentinel auth-user mymaster sentinel",
      "sentinel auth-pass mymaster sample-messageSentinel-password-0000",
      "user default off",
      `user app on >sample-sentinel-password-0000 ${ACL_RIGHTS.sentinelApp}`,
      `user admin on >sample-sentinelAdmin-password-0000 ${ACL_RIGHTS.admin}`,
      `user sentinel-peer on >sample-sentinelPeer-password-0000 ${ACL_RIGHTS.sentinelPeer}`,
      `user monitor on >sample-sentinelMonitor-password-0000 ${ACL_RIGHTS.sentinelMonitor}`,
      "sentinel sentinel-user sentinel-peer",
      "sentinel sentinel-pass sample-sentinelPeer-password-0000",
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
  const users = sampleUserPasswords("test");

  /** valkey-cli as an ACL user ([user, password]), or with no AUTH at all. */
  const cli = (node: NodeName, port: number, args: string[], auth?: readonly [string, string]): string => {
    const env = auth === undefined ? [] : ["--user", auth[0], "--pass", auth[1], "--no-auth-warning"];
    const result = run(
      "valkey-cli",
      ["-h", layout.nodes[node].privateIp, "-p", String(port), ...env, ...args],
      5_000,
    );
    return `${result.stdout}${result.stderr}`.trim();
  };
  const app = (node: NodeName): [string, string] => ["app", node === "gate" ? users.tokenApp : password];
  const admin = (node: NodeName): [string, string] => [
    "admin",
    node === "gate" ? users.tokenAdmin : users.messageAdmin,
  ];
  const sentinelApp: [string, string] = ["app", sentinelPassword];
  const sentinelAdmin: [string, string] = ["admin", users.sentinelAdmin];

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
      secrets: { valkeyPassword: password, sentinelPassword, tlsPem: "", users },
    });
    for (const node of NODE_NAMES) {
      materialise(layout, node);
      // The token Valkey's dir is on the token volume (cloud-init/token-volume.ts), which setup.sh mounts.
      for (const sub of [
        "var/lib/valkey",
        TOKEN_DATA_DIR.slice(1),
        "var/log/valkey",
        "run/valkey",
        "run/valkey-replica",
        "run/sentinel",
      ]) {
        fs.mkdirSync(path.join(dir, node, sub), { recursive: true });
      }
    }
    // Masters first, so that the replica and the Sentinels find blue at once.
    for (const node of ["blue", "gate", "green"] as const) {
      children.push(
        spawn("valkey-server", [path.join(dir, node, "etc/valkey/valkey.conf")], { stdio: "ignore" }),
      );
    }
    children.push(
      spawn("valkey-server", [path.join(dir, "gate", "etc/valkey/valkey-replica.conf")], { stdio: "ignore" }),
    );
    for (const node of NODE_NAMES) {
      children.push(
        spawn("valkey-sentinel", [path.join(dir, node, "etc/valkey/sentinel.conf")], { stdio: "ignore" }),
      );
    }
    for (const node of NODE_NAMES) {
      await waitFor(() => cli(node, 16379, ["ping"], admin(node)) === "PONG", `Valkey on ${node}`);
      await waitFor(() => cli(node, 26380, ["ping"], sentinelAdmin) === "PONG", `Sentinel on ${node}`);
    }
  });

  afterAll(async () => {
    // Valkey refuses to exit while it cannot write its final AOF/RDB: stop it before removing its dir.
    await stopChildren(children);
    fs.rmSync(dir, { recursive: true, force: true });
    releaseLock();
  });

  it("runs a Valkey the stack supports (7.2, as on Ubuntu 24.04, or 8)", () => {
    const version = run("valkey-server", ["--version"]).stdout.trim();
    console.log(`valkey-server --version: ${version}`);
    expect(version).toMatch(/^(Valkey server|Server) v=(7\.2|8\.\d+)\.\d+ /);
    for (const node of NODE_NAMES) {
      const info = cli(node, 16379, ["INFO", "server"], admin(node));
      expect(info, node).toContain(`valkey_version:${/v=(\S+)/.exec(version)?.[1] ?? "?"}`);
    }
  });

  it.each(NODE_NAMES)("Valkey on %s answers PING with the password and NOAUTH without", (node) => {
    const withPassword = cli(node, 16379, ["ping"], app(node));
    const without = cli(node, 16379, ["ping"]);
    console.log(
      `valkey-cli -h ${layout.nodes[node].privateIp} -p 16379 ping: with password: ${withPassword}; without: ${without}`,
    );
    expect(withPassword).toBe("PONG");
    expect(without).toMatch(/^NOAUTH /);
  });

  it.each(NODE_NAMES)("Sentinel on %s answers PING with its password and NOAUTH without", (node) => {
    const withPassword = cli(node, 26380, ["ping"], sentinelApp);
    const without = cli(node, 26380, ["ping"]);
    console.log(
      `valkey-cli -h ${layout.nodes[node].privateIp} -p 26380 ping: with password: ${withPassword}; without: ${without}`,
    );
    expect(withPassword).toBe("PONG");
    expect(without).toMatch(/^NOAUTH /);
  });

  it("green replicates blue with the password, and each Sentinel sees blue as master", async () => {
    await waitFor(
      () => cli("green", 16379, ["info", "replication"], admin("green")).includes("master_link_status:up"),
      "green's replication link",
    );
    expect(cli("green", 16379, ["info", "replication"], admin("green"))).toContain("role:slave");
    for (const node of NODE_NAMES) {
      expect(cli(node, 26380, ["sentinel", "get-master-addr-by-name", "mymaster"], sentinelApp)).toBe(
        `${layout.nodes.blue.privateIp}\n16379`,
      );
    }
    // The Sentinels find each other (with sentinel-pass) and rewrite their own files.
    await waitFor(
      () =>
        /num-other-sentinels\n2/.test(cli("gate", 26380, ["sentinel", "master", "mymaster"], sentinelAdmin)),
      "the three Sentinels to know each other",
      20_000,
    );
    const rewritten = fs.readFileSync(path.join(dir, "gate/etc/valkey/sentinel.conf"), "utf8");
    expect(rewritten).toContain("sentinel known-sentinel mymaster");
  });
  it("the gate's message replica replicates blue, is never a failover candidate, and Sentinel finds it", async () => {
    const replicaAdmin: [string, string] = ["admin", users.messageAdmin];
    await waitFor(
      () => cli("gate", 16380, ["info", "replication"], replicaAdmin).includes("master_link_status:up"),
      "the gate replica's replication link",
    );
    const info = cli("gate", 16380, ["info", "replication"], replicaAdmin);
    expect(info).toContain("role:slave");
    expect(info).toContain(`master_host:${layout.nodes.blue.privateIp}`);
    expect(info).toContain("slave_priority:0");
    expect(cli("gate", 16380, ["ping"])).toMatch(/^NOAUTH /);
    // blue counts two good replicas (green and the gate) against min-replicas-to-write 1.
    await waitFor(
      () => cli("blue", 16379, ["info", "replication"], admin("blue")).includes("min_slaves_good_slaves:2"),
      "blue to count two good replicas",
    );
    await waitFor(
      () =>
        cli("green", 26380, ["sentinel", "replicas", "mymaster"], sentinelAdmin).includes(
          `${layout.nodes.gate.privateIp}:16380`,
        ),
      "Sentinel to discover the gate replica",
      20_000,
    );
  });

  const refused = (reply: string, command: string): void =>
    expect(reply).toBe(`NOPERM User app has no permissions to run the '${command}' command`);

  it.each(["gate", "blue"] as const)("the apps' user on %s's store writes, reads and WAITs", (node) => {
    expect(cli(node, 16379, ["set", "acl-probe", "1"], app(node))).toBe("OK");
    expect(cli(node, 16379, ["get", "acl-probe"], app(node))).toBe("1");
    expect(cli(node, 16379, ["wait", "0", "0"], app(node))).toMatch(/^\d+$/);
  });

  it.each(["gate", "blue"] as const)(
    "the apps' user on %s's store is refused every admin command",
    (node) => {
      refused(cli(node, 16379, ["flushall"], app(node)), "flushall");
      refused(cli(node, 16379, ["shutdown"], app(node)), "shutdown");
      refused(cli(node, 16379, ["replicaof", "no", "one"], app(node)), "replicaof");
      refused(cli(node, 16379, ["config", "set", "maxmemory", "1mb"], app(node)), "config|set");
      refused(cli(node, 16379, ["acl", "setuser", "app", "+@all"], app(node)), "acl|setuser");
      refused(cli(node, 16379, ["module", "list"], app(node)), "module|list");
      refused(cli(node, 16379, ["keys", "*"], app(node)), "keys");
      refused(cli(node, 16379, ["client", "pause", "1000"], app(node)), "client|pause");
      // DEBUG is also off by enable-debug-command; the ACL refuses it on its own too.
      expect(cli(node, 16379, ["acl", "dryrun", "app", "debug", "sleep", "0"], admin(node))).toBe(
        "User app has no permissions to run the 'debug' command",
      );
      expect(cli(node, 16379, ["acl", "dryrun", "app", "flushdb"], admin(node))).toBe(
        "User app has no permissions to run the 'flushdb' command",
      );
    },
  );

  it.each(["gate", "blue"] as const)("the default user is off on %s: no AUTH, no command", (node) => {
    expect(cli(node, 16379, ["set", "x", "1"])).toMatch(/^NOAUTH /);
    expect(cli(node, 16379, ["auth", "default", "anything"])).toBe(
      "WRONGPASS invalid username-password pair or user is disabled.",
    );
  });

  it.each(["gate", "blue"] as const)(
    "redis_exporter's monitor user on %s's store reads INFO and nothing else (no key, no CONFIG GET)",
    (node) => {
      const monitor: [string, string] = [
        "monitor",
        node === "gate" ? users.tokenMonitor : users.messageMonitor,
      ];
      expect(cli(node, 16379, ["info", "replication"], monitor)).toMatch(/^# Replication\r?\nrole:master/);
      expect(cli(node, 16379, ["ping"], monitor)).toBe("PONG");
      expect(cli(node, 16379, ["slowlog", "len"], monitor)).toMatch(/^\d+$/);
      const no = (r: string, command: string): void =>
        expect(r).toBe(`NOPERM User monitor has no permissions to run the '${command}' command`);
      no(cli(node, 16379, ["get", "acl-probe"], monitor), "get");
      no(cli(node, 16379, ["set", "x", "1"], monitor), "set");
      no(cli(node, 16379, ["config", "get", "masterauth"], monitor), "config|get");
      no(cli(node, 16379, ["slowlog", "get"], monitor), "slowlog|get");
      no(cli(node, 16379, ["client", "list"], monitor), "client|list");
      no(cli(node, 16379, ["keys", "*"], monitor), "keys");
    },
  );

  it("redis_exporter's monitor user on Sentinel reads the master's state and changes nothing", () => {
    const monitor: [string, string] = ["monitor", users.sentinelMonitor];
    const reply = (args: string[]): string => cli("gate", 26380, args, monitor);
    expect(reply(["sentinel", "ckquorum", "mymaster"])).toMatch(/^OK /);
    expect(reply(["sentinel", "masters"])).toContain("mymaster");
    const no = (r: string, command: string): void =>
      expect(r).toBe(`NOPERM User monitor has no permissions to run the '${command}' command`);
    no(reply(["sentinel", "set", "mymaster", "quorum", "1"]), "sentinel|set");
    no(reply(["sentinel", "failover", "mymaster"]), "sentinel|failover");
    no(reply(["sentinel", "remove", "mymaster"]), "sentinel|remove");
    no(reply(["sentinel", "config", "get", "*"]), "sentinel|config");
  });

  it("the apps' Sentinel user may only ask for the master's address", () => {
    const reply = (args: string[]): string => cli("gate", 26380, args, sentinelApp);
    expect(reply(["sentinel", "get-master-addr-by-name", "mymaster"])).toBe(
      `${layout.nodes.blue.privateIp}\n16379`,
    );
    const no = (r: string, command: string): void =>
      expect(r).toBe(`NOPERM User app has no permissions to run the '${command}' command`);
    no(reply(["sentinel", "remove", "mymaster"]), "sentinel|remove");
    no(reply(["sentinel", "monitor", "rogue", "10.9.9.9", "6379", "2"]), "sentinel|monitor");
    no(reply(["sentinel", "set", "mymaster", "quorum", "1"]), "sentinel|set");
    no(reply(["sentinel", "failover", "mymaster"]), "sentinel|failover");
    no(reply(["sentinel", "sentinels", "mymaster"]), "sentinel|sentinels");
    no(reply(["sentinel", "master", "mymaster"]), "sentinel|master");
    no(reply(["acl", "list"]), "acl|list");
  });

  it("the apps' Sentinel user may subscribe to +switch-master and to nothing else", () => {
    expect(cli("gate", 26380, ["acl", "dryrun", "app", "subscribe", "+switch-master"], sentinelAdmin)).toBe(
      "OK",
    );
    expect(cli("gate", 26380, ["acl", "dryrun", "app", "subscribe", "+sdown"], sentinelAdmin)).toBe(
      "User app has no permissions to access the '+sdown' channel",
    );
    expect(cli("gate", 26380, ["acl", "dryrun", "app", "psubscribe", "*"], sentinelAdmin)).toBe(
      "User app has no permissions to run the 'psubscribe' command",
    );
  });
});
