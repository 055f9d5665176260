import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { NODE_NAMES, NodeName, roleOf } from "../../cloud-init/layout";
import {
  OCI_METADATA_LIMIT_BYTES,
  decodeUserData,
  encodeUserData,
  RenderError,
  renderHaproxyConfig,
  packageSourcesWait,
  renderUserData,
} from "../../cloud-init/user-data";
import { POLICY_RC_MARKER, renderNodeFiles, scriptForNode } from "../../cloud-init/node-files";
import { parseWriteFiles } from "../../cloud-init/write-files";
import { REPO, cloudLayout, tempDir } from "./helpers";
import { sampleUserPasswords } from "../../tools/sample-layout";
import { MAX_ADMIN_CIDRS, MAX_SSH_PUBLIC_KEYS_LENGTH, MAX_TLS_PEM_LENGTH } from "../../config/key-spec";
import { readScript } from "../../cloud-init/scripts";

interface CloudConfig {
  bootcmd: string[];
  hostname: string;
  package_update: boolean;
  packages: string[];
  users: unknown[];
  runcmd: string[][];
  write_files: {
    path: string;
    content: string;
    defer: boolean;
    encoding?: string;
    permissions: string;
    owner: string;
  }[];
}

const layout = cloudLayout();
const parse = (node: NodeName): CloudConfig => yaml.load(renderUserData(layout, node)) as CloudConfig;
const fileOf = (node: NodeName, abs: string): string => {
  const file = renderNodeFiles(layout, node).find((f) => f.path === abs);
  if (file === undefined) throw new Error(`no ${abs} on ${node}`);
  return file.content;
};
const linesOf = (node: NodeName, abs: string): string[] => fileOf(node, abs).split("\n");

/** Repo files embedded verbatim (the scripts and the placeholder app), by their path on a node. */
const EMBEDDED: Record<string, string> = {
  "/opt/yquant/bin/setup.sh": "cloud-init/scripts/setup.sh",
  "/opt/yquant/bin/deploy.sh": "cloud-init/scripts/deploy.sh",
  "/opt/yquant/bin/health-check.sh": "cloud-init/scripts/health-check.sh",
  "/opt/yquant/bin/switch-active.sh": "cloud-init/scripts/switch-active.sh",
  "/opt/yquant/placeholder/app.py": "cloud-init/placeholder/app.py",
};

/**
 * The user data with each file's content replaced by a marker: the rendered files are snapshotted
 * one by one (decoded, so the snapshot does not depend on the zlib build), and the embedded repo
 * files are compared with the repo instead, so that editing a script does not churn snapshots.
 */
function skeleton(node: NodeName): string {
  const config = yaml.load(renderUserData(layout, node)) as { write_files: Record<string, unknown>[] };
  const decoded = parseWriteFiles(renderUserData(layout, node));
  config.write_files = config.write_files.map((entry, i) => {
    const file = decoded[i];
    const source = EMBEDDED[file?.path ?? ""];
    return { ...entry, content: source === undefined ? `<${file?.path} as rendered>` : `<${source}>` };
  });
  return yaml.dump(config, { sortKeys: true, lineWidth: -1, noRefs: true });
}

describe("renderUserData", () => {
  it.each(NODE_NAMES)("%s: snapshot of the cloud-config and of every rendered file", (node) => {
    expect(skeleton(node)).toMatchSnapshot();
    for (const file of renderNodeFiles(layout, node)) {
      const source = EMBEDDED[file.path];
      if (source === undefined) expect(file.content).toMatchSnapshot(file.path);
      else {
        const text = fs.readFileSync(path.join(REPO, source), "utf8");
        const name = /scripts\/([a-z-]+)\.sh$/.exec(source)?.[1];
        expect(file.content, file.path).toBe(name ? scriptForNode(name, readScript(name)) : text);
      }
    }
  });

  it("leaves out a script's whole-line comments only, keeping the shebang and naming the source", () => {
    expect(scriptForNode("x", "#!/usr/bin/env bash\n# doc\n  # indented\nset -eu\necho a # trailing\n")).toBe(
      "#!/usr/bin/env bash\n# yquant-infra cloud-init/scripts/x.sh (comment lines left out)\nset -eu\necho a # trailing\n",
    );
  });

  it.each(NODE_NAMES)("%s: starts with #cloud-config and is valid YAML with the expected keys", (node) => {
    const text = renderUserData(layout, node);
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    const config = parse(node);
    expect(Object.keys(config).sort()).toEqual([
      "bootcmd",
      "hostname",
      "package_update",
      "package_upgrade",
      "packages",
      "runcmd",
      "users",
      "write_files",
    ]);
    expect(config.hostname).toBe({ gate: "yq-gate", blue: "yq-blue", green: "yq-green" }[node]);
    expect(config.package_update).toBe(true);
    expect(config.users[0]).toBe("default");
    // Only queues the wait (tests/render/first-boot.test.ts): nothing in cloud-init.service waits.
    expect(config.bootcmd).toEqual([packageSourcesWait(layout, node)]);
    expect(config.users[1]).toMatchObject({ name: "yquant", system: true, shell: "/usr/sbin/nologin" });
  });

  it("installs exactly the packages of each node's role, in the role table's order", () => {
    // The lists themselves are pinned by the cloud-config snapshots above.
    for (const node of NODE_NAMES) {
      expect(parse(node).packages, node).toEqual([...roleOf(layout.topology, node).packages]);
    }
    expect(parse("gate").packages).toContain("haproxy");
    expect(parse("blue").packages).not.toContain("haproxy");
  });

  it("takes no activeColor: the signature is (layout, node), and the gate carries the one haproxy.cfg", () => {
    expect(renderUserData.length).toBe(2);
    expect(renderNodeFiles.length).toBe(2);
    const paths = parse("gate").write_files.map((f) => f.path);
    expect(fileOf("gate", "/etc/haproxy/haproxy.cfg")).toBe(renderHaproxyConfig(layout));
    // The live color is in the switch map, which setup.sh has switch-active.sh write (blue at first
    // boot, whatever the stack's activeColor), see tests/render/e2e.test.ts.
    expect(paths).not.toContain("/etc/haproxy/yquant/switch.map");
  });

  it("installs each script where it runs", () => {
    const scripts = (node: NodeName): string[] =>
      renderNodeFiles(layout, node)
        .map((f) => f.path)
        .filter((p) => p.startsWith("/opt/yquant/bin/"));
    expect(scripts("gate")).toEqual([
      "/opt/yquant/bin/setup.sh",
      "/opt/yquant/bin/health-check.sh",
      "/opt/yquant/bin/switch-active.sh",
      "/opt/yquant/bin/node-metrics.sh",
      "/opt/yquant/bin/sentinel-event.sh",
    ]);
    for (const node of ["blue", "green"] as const) {
      expect(scripts(node)).toEqual([
        "/opt/yquant/bin/setup.sh",
        "/opt/yquant/bin/deploy.sh",
        "/opt/yquant/bin/health-check.sh",
        "/opt/yquant/bin/node-metrics.sh",
        "/opt/yquant/bin/sentinel-event.sh",
      ]);
    }
  });

  it("the engines' user data differ only where the node differs (no color-dependent state)", () => {
    const blue = renderNodeFiles(layout, "blue").map((f) => f.path);
    const green = renderNodeFiles(layout, "green").map((f) => f.path);
    expect(green).toEqual(blue);
  });

  it.each(NODE_NAMES)(
    "%s: config files are written after the packages (defer), then runcmd runs setup.sh",
    (node) => {
      const config = parse(node);
      const text = renderUserData(layout, node);
      const notDeferred = config.write_files.filter((f) => !f.defer).map((f) => f.path);
      // Only the policy-rc.d, which must be in place before the packages install, and setup.sh,
      // which the first boot's wait for package sources runs before them, are written early.
      expect(notDeferred).toEqual(["/usr/sbin/policy-rc.d", "/opt/yquant/bin/setup.sh"]);
      const mustDefer = [
        "/etc/valkey/valkey.conf",
        "/etc/valkey/sentinel.conf",
        "/etc/yquant/node.env",
        "/etc/yquant/valkey.env",
        "/etc/yquant/firewall.rules",
        ...(node === "gate"
          ? ["/etc/haproxy/haproxy.cfg"]
          : ["/etc/systemd/system/yquant-frontend.service", "/opt/yquant/placeholder/app.py"]),
      ];
      for (const p of mustDefer) {
        expect(config.write_files.find((f) => f.path === p)?.defer, p).toBe(true);
      }
      expect(config.runcmd).toEqual([["/opt/yquant/bin/setup.sh"]]);
      expect(text.indexOf("\nruncmd:")).toBeGreaterThan(0);
      expect(fileOf(node, "/usr/sbin/policy-rc.d")).toBe(
        "#!/bin/sh\n# yquant: hold package services until setup.sh (it removes this file)\nexit 101\n",
      );
    },
  );

  it.each(NODE_NAMES)(
    "%s: stays under OCI's 32,000-byte metadata limit once gzipped and base64-encoded",
    (node) => {
      const text = renderUserData(layout, node);
      const encoded = encodeUserData(text);
      expect(decodeUserData(encoded)).toBe(text);
      expect(encodeUserData(text)).toBe(encoded);
      // Room for ssh_authorized_keys (an RSA 4096 key is ~750 bytes) in the same metadata.
      expect(encoded.length + 2_000).toBeLessThan(OCI_METADATA_LIMIT_BYTES);
    },
  );

  it.each([
    // [key type, bytes kept free for ssh_authorized_keys]
    ["rsa:2048", 2_000],
    ["rsa:4096", 1_000],
  ])("stays under the limit with a %s certificate and key as tlsPem (plain, not gzipped)", (key, reserve) => {
    const dir = tempDir("pem");
    try {
      execFileSync(
        "openssl",
        ["req", "-x509", "-newkey", key, "-nodes", "-days", "2", "-subj", "/CN=yq-gate.example"].concat([
          "-keyout",
          path.join(dir, "key.pem"),
          "-out",
          path.join(dir, "cert.pem"),
        ]),
        { stdio: "ignore" },
      );
      const pem =
        fs.readFileSync(path.join(dir, "cert.pem"), "utf8") +
        fs.readFileSync(path.join(dir, "key.pem"), "utf8");
      const withPem = cloudLayout({ secrets: { ...layout.secrets, tlsPem: pem } });
      const text = renderUserData(withPem, "gate");
      const base64 = encodeUserData(text).length;
      console.log(
        `gate user data with a ${pem.length}-byte ${key} PEM: ${Buffer.byteLength(text)} bytes raw, ${base64} gzipped+base64`,
      );
      expect(base64 + reserve).toBeLessThan(OCI_METADATA_LIMIT_BYTES);
      const entry = (yaml.load(text) as CloudConfig).write_files.find(
        (f) => f.path === "/etc/haproxy/certs/yquant.pem",
      );
      expect(entry?.encoding).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the gate at the config's limits (a 5300-character PEM that gzip cannot shrink, 16 admin CIDRs) keeps room for the longest sshPublicKey the config takes", () => {
    // Random base64 in PEM lines: the worst a tlsPem within MAX_TLS_PEM_LENGTH can do to gzip.
    const pem =
      `-----BEGIN CERTIFICATE-----\n${crypto.randomBytes(4000).toString("base64").replace(/.{64}/g, "$&\n")}`.slice(
        0,
        MAX_TLS_PEM_LENGTH,
      );
    const adminCidrs = Array.from({ length: MAX_ADMIN_CIDRS }, (_, i) => `198.51.${100 + i}.0/24`);
    const worst = cloudLayout({ secrets: { ...layout.secrets, tlsPem: pem }, adminCidrs });
    const text = renderUserData(worst, "gate");
    const base64 = encodeUserData(text).length;
    console.log(
      `gate user data at the config's limits: ${Buffer.byteLength(text)} bytes raw, ${base64} gzipped+base64, ` +
        `${OCI_METADATA_LIMIT_BYTES - base64} left for ssh_authorized_keys`,
    );
    // ssh_authorized_keys shares the limit: the longest sshPublicKey the config takes still fits.
    expect(base64 + MAX_SSH_PUBLIC_KEYS_LENGTH).toBeLessThan(OCI_METADATA_LIMIT_BYTES);
  });

  it("refuses user data over OCI's limit with a clear error", () => {
    const huge = cloudLayout({
      // Random base64 does not compress: gzip cannot save it.
      secrets: {
        ...layout.secrets,
        tlsPem: crypto.randomBytes(30_000).toString("base64").replace(/.{64}/g, "$&\n"),
      },
    });
    expect(() => renderUserData(huge, "gate")).toThrow(
      /^user data of gate is \d+ bytes gzipped and base64-encoded, over OCI's 32000-byte metadata limit$/,
    );
  });

  it("carries every file as plain text (the program gzips the whole user data once) and reads it back exactly", () => {
    const config = parse("gate");
    expect(config.write_files.filter((f) => "encoding" in f).map((f) => f.path)).toEqual([]);
    expect(config.write_files.find((f) => f.path === "/usr/sbin/policy-rc.d")?.content).toBe(
      `#!/bin/sh\n${POLICY_RC_MARKER} (it removes this file)\nexit 101\n`,
    );
    // cloud-init's defaults (0644, root:root, not deferred) are left out of the size-limited text.
    const files = renderNodeFiles(layout, "gate");
    config.write_files.forEach((entry, i) => {
      const file = files[i];
      expect(entry.path).toBe(file?.path);
      expect("owner" in entry, entry.path).toBe(file?.owner !== "root:root");
      expect("permissions" in entry, entry.path).toBe(file?.permissions !== "0644");
      expect("defer" in entry, entry.path).toBe(file?.defer === true);
    });
    // 10, monitoring's 4 (node_exporter's defaults, the node-metrics unit, node-metrics.sh,
    // sentinel-event.sh), Sentinel's sandbox drop-in for sentinel-event.sh and the message
    // replica's UMask drop-in.
    expect(files.filter((f) => f.owner === "root:root")).toHaveLength(16);
    expect(parseWriteFiles(renderUserData(layout, "gate"))).toEqual(renderNodeFiles(layout, "gate"));
  });

  it("refuses a layout that cannot be rendered safely, naming the field", () => {
    const bad = cloudLayout({
      secrets: {
        valkeyPassword: "has space",
        sentinelPassword: "x".repeat(20),
        tlsPem: "",
        users: sampleUserPasswords("t"),
      },
    });
    expect(() => renderUserData(bad, "gate")).toThrow(RenderError);
    expect(() => renderUserData(bad, "gate")).toThrow(
      "layout.secrets.valkeyPassword: must be printable ASCII without spaces, quotes or backslashes",
    );
    const quoted = cloudLayout({ app: { repository: "it's", buildCommand: "", services: [] } });
    expect(() => renderUserData(quoted, "blue")).toThrow(
      "layout.app.services: at least one service (the first serves the app port)",
    );
    const badRepo = cloudLayout({
      app: { repository: "it's", buildCommand: "", services: [{ name: "frontend", command: "" }] },
    });
    expect(() => renderUserData(badRepo, "blue")).toThrow(
      "layout.app.repository: must not contain quotes, backslashes or newlines",
    );
    const relative = cloudLayout({ roots: { gate: "lab/gate", blue: "/", green: "/" } });
    expect(() => renderUserData(relative, "gate")).toThrow(
      'layout.roots.gate: must be an absolute path, got "lab/gate"',
    );
  });

  it("refuses bad or missing ports, naming the field", () => {
    const bad = cloudLayout({ ports: { ...layout.ports, staging: 70000 } });
    expect(() => renderUserData(bad, "gate")).toThrow(
      "layout.ports.staging: must be an integer from 1 to 65535, got 70000",
    );
    const partial = cloudLayout({ ports: { http: 80 } as unknown as typeof layout.ports });
    expect(() => renderUserData(partial, "gate")).toThrow("layout.ports.https: missing");
  });

  it("writes the TLS PEM only when given, root 0600", () => {
    expect(renderNodeFiles(layout, "gate").some((f) => f.path.endsWith("yquant.pem"))).toBe(false);
    const pem = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----";
    const withPem = cloudLayout({ secrets: { ...layout.secrets, tlsPem: pem } });
    const file = renderNodeFiles(withPem, "gate").find((f) => f.path === "/etc/haproxy/certs/yquant.pem");
    expect(file).toEqual({
      path: "/etc/haproxy/certs/yquant.pem",
      content: `${pem}\n`,
      permissions: "0600",
      owner: "root:root",
      defer: true,
    });
  });
});

describe("node.env, valkey.env, firewall and units", () => {
  it("node.env holds every contract key, single-quoted", () => {
    const env = fileOf("green", "/etc/yquant/node.env");
    for (const line of [
      "NODE_NAME='green'",
      "NODE_ROLE='engine'",
      "NODE_IP='10.0.2.11'",
      "NODE_LOOPBACK='127.0.0.1'",
      "GATE_IP='10.0.1.10'",
      "BLUE_IP='10.0.2.10'",
      "GREEN_IP='10.0.2.11'",
      "HTTP_PORT='80'",
      "HTTPS_PORT='443'",
      "STAGING_PORT='8080'",
      "STATS_PORT='8404'",
      "APP_PORT='5000'",
      "VALKEY_PORT='6379'",
      "SENTINEL_PORT='26379'",
      "SENTINEL_MASTER_NAME='mymaster'",
      "SENTINEL_QUORUM='2'",
      "SERVICE_CONTROL='systemctl'",
      "HOST_FIREWALL='on'",
      "PRODUCTION='true'",
      "APP_REPOSITORY=''",
      "APP_BUILD_COMMAND=''",
      "APP_SERVICES='frontend backend sync'",
      "APP_HTTP_SERVICE='frontend'",
    ]) {
      expect(env.split("\n")).toContain(line);
    }
  });

  it("only the HAProxy node's node.env has DRAIN_SECONDS (the switch reads it), so a drainSeconds change converges the gate alone", () => {
    const drain = (node: NodeName) =>
      linesOf(node, "/etc/yquant/node.env").filter((l) => l.startsWith("DRAIN_SECONDS="));
    expect([drain("gate"), drain("blue"), drain("green")]).toEqual([["DRAIN_SECONDS='30'"], [], []]);
  });

  it("valkey.env lists the sentinels, the master name and the token store", () => {
    expect(linesOf("blue", "/etc/yquant/valkey.env")).toEqual(
      expect.arrayContaining([
        "SENTINELS='10.0.1.10:26379,10.0.2.10:26379,10.0.2.11:26379'",
        "SENTINEL_MASTER_NAME='mymaster'",
        "TOKEN_VALKEY='10.0.1.10:6379'",
        "VALKEY_PASSWORD='sample-valkey-password-0000'",
      ]),
    );
  });

  it("firewall rules are the exact port map of each node", () => {
    const rules = (node: NodeName): string[] =>
      linesOf(node, "/etc/yquant/firewall.rules").filter((l) => l !== "" && !l.startsWith("#"));
    const cluster = (port: number, name: string): string[] =>
      ["10.0.1.10", "10.0.2.10", "10.0.2.11"].map((ip) => `tcp ${port} ${ip}/32 ${name}`);
    // Monitoring: from the engines' Prometheus/Alertmanager only.
    const engines = (port: number, name: string, proto = "tcp"): string[] =>
      ["10.0.2.10", "10.0.2.11"].map((ip) => `${proto} ${port} ${ip}/32 ${name}`);
    expect(rules("gate")).toEqual([
      "tcp 80 0.0.0.0/0 http",
      "tcp 443 0.0.0.0/0 https",
      "tcp 8080 203.0.113.0/24 staging",
      "tcp 8404 203.0.113.0/24 stats",
      ...cluster(6379, "valkey"),
      ...cluster(26379, "sentinel"),
      ...cluster(6380, "message-replica"),
      ...engines(9100, "node-exporter"),
      ...engines(8404, "haproxy-metrics"),
    ]);
    expect(rules("blue")).toEqual([
      "tcp 5000 10.0.1.10/32 app",
      ...cluster(6379, "valkey"),
      ...cluster(26379, "sentinel"),
      ...engines(9100, "node-exporter"),
      ...engines(9090, "prometheus"),
      ...engines(9093, "alertmanager"),
      ...engines(9094, "alertmanager-gossip"),
      ...engines(9094, "alertmanager-gossip", "udp"),
    ]);
  });

  it("app units run as yquant from the current release, with the env files", () => {
    expect(linesOf("blue", "/etc/systemd/system/yquant-frontend.service")).toEqual(
      expect.arrayContaining([
        "User=yquant",
        "EnvironmentFile=/etc/yquant/node.env",
        "EnvironmentFile=/etc/yquant/valkey.env",
        "ExecStart=/usr/bin/python3 /opt/yquant/current/app.py --service frontend",
        "WantedBy=multi-user.target",
      ]),
    );
    const custom = cloudLayout({
      app: {
        repository: "https://example.invalid/app.git",
        buildCommand: "make",
        services: [{ name: "frontend", command: 'run --name "x" $HOME 50%' }],
      },
    });
    const customUnit = renderNodeFiles(custom, "green").find((f) =>
      f.path.endsWith("yquant-frontend.service"),
    );
    expect(customUnit?.content.split("\n")).toContain(
      'ExecStart=/bin/sh -c "run --name \\"x\\" $$HOME 50%%"',
    );
  });
});
