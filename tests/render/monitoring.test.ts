/**
 * Monitoring renderers: exact rendered values, bad settings refused, and every file checked by its
 * real tool: `promtool check config` / `check rules`, `promtool test rules` (one test per alert,
 * tests/render/fixtures/alert-rules.test.yml), `amtool check-config`; and the user data's gzip
 * encoding read back by the installed cloud-init.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { ALERT_RULES } from "../../cloud-init/alert-rules";
import { DEFAULT_MONITORING } from "../../cloud-init/layout";
import { monitoringFirewallRules, monitoringUnits, validateMonitoring } from "../../cloud-init/monitoring";
import {
  renderAlertRules,
  renderAlertmanagerConfig,
  renderExporterPasswords,
  renderPrometheusConfig,
} from "../../cloud-init/monitoring-config";
import { renderUnitDefaults } from "../../cloud-init/monitoring-units";
import { encodeUserData, renderUserData } from "../../cloud-init/user-data";
import { parseWriteFiles } from "../../cloud-init/write-files";
import { ROLES } from "../../cloud-init/topology";
import { nsgRuleSpecs } from "../../components/network";
import { cloudLayout, localLayout, materialise, tempDir } from "./helpers";

const cloud = cloudLayout();
const dir = tempDir("monitoring");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function tool(cmd: string, args: string[], cwd?: string) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000, cwd });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

describe("placement and packages", () => {
  it("runs Prometheus and Alertmanager on both engines, only small agents on the gate", () => {
    expect(monitoringUnits(cloud, "gate")).toEqual(["prometheus-node-exporter", "yquant-node-metrics"]);
    for (const engine of ["blue", "green"] as const) {
      expect(monitoringUnits(cloud, engine)).toEqual([
        "prometheus-node-exporter",
        "yquant-node-metrics",
        "prometheus-redis-exporter",
        "prometheus",
        "prometheus-alertmanager",
      ]);
    }
    // The role table carries the packages (promtool comes with prometheus, amtool with the Alertmanager).
    expect(ROLES.gate.packages.filter((p) => p.startsWith("prometheus"))).toEqual([
      "prometheus-node-exporter",
    ]);
    expect(ROLES.engine.packages.filter((p) => p.startsWith("prometheus"))).toEqual([
      "prometheus-node-exporter",
      "prometheus-redis-exporter",
      "prometheus",
      "prometheus-alertmanager",
    ]);
    expect([ROLES.gate.monitoring, ROLES.engine.monitoring]).toEqual(["agent", "server"]);
  });
});

describe("prometheus.yml", () => {
  const config = yaml.load(renderPrometheusConfig(cloud, "blue")) as {
    global: Record<string, string>;
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: {
      job_name: string;
      metrics_path?: string;
      static_configs: { targets: string[]; labels: Record<string, string> }[];
      relabel_configs?: unknown[];
    }[];
  };
  const targets = (job: string) =>
    config.scrape_configs
      .find((c) => c.job_name === job)
      ?.static_configs.map((s) => `${s.targets.join(",")} ${JSON.stringify(s.labels)}`);

  it("scrapes every node on its private address, and alerts both Alertmanagers", () => {
    expect(config.global).toEqual({
      scrape_interval: "15s",
      scrape_timeout: "10s",
      evaluation_interval: "15s",
    });
    expect(config.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual([
      "10.0.2.10:9093",
      "10.0.2.11:9093",
    ]);
    expect(config.scrape_configs.map((c) => c.job_name)).toEqual([
      "node",
      "haproxy",
      "valkey",
      "sentinel",
      "prometheus",
      "alertmanager",
    ]);
    expect(targets("node")).toEqual([
      '10.0.1.10:9100 {"node":"gate"}',
      '10.0.2.10:9100 {"node":"blue"}',
      '10.0.2.11:9100 {"node":"green"}',
    ]);
    expect(targets("haproxy")).toEqual(['10.0.1.10:8404 {"node":"gate"}']);
    expect(targets("valkey")).toEqual([
      'redis://10.0.1.10:6379 {"node":"gate","store":"token"}',
      'redis://10.0.2.10:6379 {"node":"blue","store":"message"}',
      'redis://10.0.2.11:6379 {"node":"green","store":"message"}',
      // The gate's message replica: per instance, under the message store's alerts.
      'redis://10.0.1.10:6380 {"node":"gate","store":"message"}',
    ]);
    expect(targets("sentinel")).toEqual([
      'redis://10.0.1.10:26379 {"node":"gate","store":"sentinel"}',
      'redis://10.0.2.10:26379 {"node":"blue","store":"sentinel"}',
      'redis://10.0.2.11:26379 {"node":"green","store":"sentinel"}',
    ]);
    expect(config.scrape_configs.find((c) => c.job_name === "valkey")?.relabel_configs).toEqual([
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__address__"], target_label: "instance" },
      { target_label: "__address__", replacement: "127.0.0.1:9121" },
    ]);
  });

  it("is the same on both engines (identical series let the Alertmanager cluster deduplicate)", () => {
    expect(renderPrometheusConfig(cloud, "green").replace("on green", "on blue")).toBe(
      renderPrometheusConfig(cloud, "blue"),
    );
  });
});

describe("unit settings (/etc/default)", () => {
  it("bounds retention and binds private addresses", () => {
    expect(renderUnitDefaults(cloud, "blue", "prometheus")).toBe(
      "# Rendered by yquant-infra (cloud-init/monitoring.ts) for blue.\n" +
        'ARGS="--config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/var/lib/prometheus/metrics2 ' +
        "--storage.tsdb.retention.time=15d --storage.tsdb.retention.size=1024MB " +
        '--web.listen-address=10.0.2.10:9090"\n',
    );
    expect(renderUnitDefaults(cloud, "green", "prometheus-alertmanager")).toContain(
      "--cluster.listen-address=10.0.2.11:9094 --cluster.advertise-address=10.0.2.11:9094 --cluster.peer-timeout=15s --cluster.peer=10.0.2.10:9094",
    );
    expect(renderUnitDefaults(cloud, "gate", "prometheus-node-exporter")).toContain(
      "--web.listen-address=10.0.1.10:9100 --collector.disable-defaults --collector.cpu",
    );
    expect(renderUnitDefaults(cloud, "blue", "prometheus-redis-exporter")).toContain(
      "-web.listen-address=127.0.0.1:9121 -redis.addr= -redis.user=monitor -redis.password-file=/etc/yquant/redis-exporter.json -config-command=-",
    );
    expect(() => renderUnitDefaults(cloud, "gate", "prometheus")).toThrow(
      "renderUnitDefaults: prometheus has no /etc/default file on gate",
    );
  });
});

describe("alertmanager.yml", () => {
  it("delivers to the webhook secret, grouped for on-call, criticals repeating more often", () => {
    const layout = cloudLayout({
      monitoring: { ...DEFAULT_MONITORING, webhookUrl: "https://chat.example/hook/x" },
    });
    const config = yaml.load(renderAlertmanagerConfig(layout)) as Record<string, unknown>;
    expect(config.route).toEqual({
      receiver: "oncall",
      group_by: ["alertname", "node"],
      group_wait: "30s",
      group_interval: "300s",
      repeat_interval: "14400s",
      routes: [{ matchers: ['severity="critical"'], receiver: "oncall", repeat_interval: "3600s" }],
    });
    expect(config.receivers).toEqual([
      {
        name: "oncall",
        webhook_configs: [{ url: "https://chat.example/hook/x", send_resolved: true, max_alerts: 20 }],
      },
    ]);
    expect(yaml.load(renderAlertmanagerConfig(cloud))).toMatchObject({ receivers: [{ name: "oncall" }] });
  });

  it("is written root:prometheus 0640 (it holds the webhook secret)", () => {
    const files = parseWriteFiles(renderUserData(cloud, "blue"));
    const am = files.find((f) => f.path === "/etc/prometheus/alertmanager.yml");
    expect([am?.owner, am?.permissions]).toEqual(["root:prometheus", "0640"]);
    const pw = files.find((f) => f.path === "/etc/yquant/redis-exporter.json");
    expect([pw?.owner, pw?.permissions]).toEqual(["root:prometheus", "0640"]);
  });

  it("holds only the `monitor` user's passwords, one per store (never the apps' or an admin's)", () => {
    const u = cloud.secrets.users;
    expect(JSON.parse(renderExporterPasswords(cloud))).toEqual({
      "redis://10.0.1.10:6379": u.tokenMonitor,
      "redis://10.0.2.10:6379": u.messageMonitor,
      "redis://10.0.2.11:6379": u.messageMonitor,
      "redis://10.0.1.10:6380": u.messageMonitor,
      "redis://10.0.1.10:26379": u.sentinelMonitor,
      "redis://10.0.2.10:26379": u.sentinelMonitor,
      "redis://10.0.2.11:26379": u.sentinelMonitor,
    });
    const text = renderExporterPasswords(cloud);
    for (const other of [
      cloud.secrets.valkeyPassword,
      cloud.secrets.sentinelPassword,
      u.messageAdmin,
      u.sentinelAdmin,
    ]) {
      expect(text).not.toContain(other);
    }
  });
});

describe("bad settings are refused before anything is rendered", () => {
  it.each([
    [
      { scrapeIntervalSeconds: 0 },
      "layout.monitoring.scrapeIntervalSeconds: must be a whole number of at least 1, got 0",
    ],
    [
      { retentionSizeMb: 1.5 },
      "layout.monitoring.retentionSizeMb: must be a whole number of at least 1, got 1.5",
    ],
    [{ webhookUrl: "ftp://x" }, "layout.monitoring.webhookUrl: must be empty or an http:// or https:// URL"],
    [
      { webhookUrl: "https://x/'a" },
      "layout.monitoring.webhookUrl: must be empty or an http:// or https:// URL",
    ],
  ])("%j", (patch, message) => {
    const layout = cloudLayout({ monitoring: { ...DEFAULT_MONITORING, ...patch } });
    expect(() => validateMonitoring(layout)).toThrow(message);
    expect(() => renderUserData(layout, "blue")).toThrow(message);
  });
});

describe("network: scrape traffic stays private, and exactly these ports open", () => {
  it("host firewall: from each engine's /32 only", () => {
    const line = (r: { proto?: string; port: number; source: string; name: string }) =>
      `${r.proto ?? "tcp"} ${r.port} ${r.source} ${r.name}`;
    expect(monitoringFirewallRules(cloud, "gate").map(line)).toEqual([
      "tcp 9100 10.0.2.10/32 node-exporter",
      "tcp 9100 10.0.2.11/32 node-exporter",
      "tcp 8404 10.0.2.10/32 haproxy-metrics",
      "tcp 8404 10.0.2.11/32 haproxy-metrics",
    ]);
    expect(monitoringFirewallRules(cloud, "green").map(line)).toEqual([
      "tcp 9100 10.0.2.10/32 node-exporter",
      "tcp 9100 10.0.2.11/32 node-exporter",
      "tcp 9090 10.0.2.10/32 prometheus",
      "tcp 9090 10.0.2.11/32 prometheus",
      "tcp 9093 10.0.2.10/32 alertmanager",
      "tcp 9093 10.0.2.11/32 alertmanager",
      "tcp 9094 10.0.2.10/32 alertmanager-gossip",
      "tcp 9094 10.0.2.11/32 alertmanager-gossip",
      "udp 9094 10.0.2.10/32 alertmanager-gossip",
      "udp 9094 10.0.2.11/32 alertmanager-gossip",
    ]);
  });

  it("NSGs: the same ports, from the engine NSG only", () => {
    const monitoring = nsgRuleSpecs(["198.51.100.0/24"])
      .filter((r) => r.description.startsWith("monitoring"))
      .map(
        (r) =>
          `${r.nsg} ${r.protocol ?? "tcp"} ${r.port} <- ${r.source.kind === "nsg" ? r.source.nsg : r.source.cidr}`,
      );
    expect(monitoring).toEqual([
      "gate tcp 9100 <- engine",
      "gate tcp 8404 <- engine",
      "engine tcp 9100 <- engine",
      "engine tcp 9090 <- engine",
      "engine tcp 9093 <- engine",
      "engine tcp 9094 <- engine",
      "engine udp 9094 <- engine",
    ]);
  });
});

describe("real tools", () => {
  const local = localLayout(dir, 60, {
    monitoring: { ...DEFAULT_MONITORING, webhookUrl: "http://127.0.0.1:9/hook" },
  });
  materialise(local, "blue");
  const etc = path.join(dir, "blue/etc/prometheus");

  it("promtool check config accepts prometheus.yml and the rule file it names", () => {
    const r = tool("promtool", ["check", "config", path.join(etc, "prometheus.yml")]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(" SUCCESS: 1 rule files found");
    expect(r.output).toContain(`SUCCESS: ${ALERT_RULES.length} rules found`);
  });

  it("promtool check rules accepts the rules", () => {
    const r = tool("promtool", ["check", "rules", path.join(etc, "yquant-alerts.yml")]);
    expect(r.status, r.output).toBe(0);
  });

  it("amtool check-config accepts alertmanager.yml, with and without a webhook", () => {
    for (const layout of [local, localLayout(dir, 60)]) {
      const file = path.join(dir, `am-${layout.monitoring.webhookUrl === "" ? "none" : "hook"}.yml`);
      fs.writeFileSync(file, renderAlertmanagerConfig(layout));
      const r = tool("amtool", ["check-config", file]);
      expect(r.status, r.output).toBe(0);
      expect(r.output).toContain(" - 2 inhibit rules");
      expect(r.output).toContain(" - 1 receivers");
    }
  });

  it("promtool test rules: every alert has a unit test, and they pass", () => {
    const fixture = path.join(__dirname, "fixtures/alert-rules.test.yml");
    const work = path.join(dir, "promtool-test");
    fs.mkdirSync(work, { recursive: true });
    fs.copyFileSync(fixture, path.join(work, "alert-rules.test.yml"));
    fs.writeFileSync(path.join(work, "yquant-alerts.yml"), renderAlertRules(cloud));
    const tested = new Set(
      (
        yaml.load(fs.readFileSync(fixture, "utf8")) as {
          tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
        }
      ).tests
        .flatMap((t) => t.alert_rule_test)
        .filter((t) => t.exp_alerts.length > 0)
        .map((t) => t.alertname),
    );
    expect([...tested].sort()).toEqual(ALERT_RULES.map((r) => r.name).sort());
    const r = tool("promtool", ["test", "rules", "alert-rules.test.yml"], work);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain("SUCCESS");
  });

  it("cloud-init reads the gzipped user data back to the exact #cloud-config text", () => {
    const text = renderUserData(cloud, "blue");
    const file = path.join(dir, "user-data.b64");
    fs.writeFileSync(file, encodeUserData(text));
    const script = [
      "import base64, sys",
      "from cloudinit import user_data",
      "raw = base64.b64decode(open(sys.argv[1]).read())",
      "msg = user_data.convert_string(raw)",
      "sys.stdout.write(msg.get_payload(decode=True).decode())",
    ].join("\n");
    const r = spawnSync("/usr/bin/python3", ["-c", script, file], { encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(text);
  });
});

describe("docs: each alert, what it means and its runbook step; the runbooks link back", () => {
  const ROOT = path.resolve(__dirname, "../..");
  const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), "utf8");
  /** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
  const slug = (heading: string) =>
    heading
      .toLowerCase()
      .replace(/[^a-z0-9 -]/g, "")
      .replace(/ /g, "-");

  it.each(ALERT_RULES.map((r) => [r.name, r.runbook]))(
    "%s points to an existing step: %s",
    (name, runbook) => {
      const [file, anchor] = runbook.split("#") as [string, string];
      const headings = read(`docs/runbooks/${file}`)
        .split("\n")
        .filter((l) => l.startsWith("### "))
        .map((l) => slug(l.slice(4)));
      expect(headings).toContain(anchor);
      for (const doc of [`docs/runbooks/${file}`, `docs/ko/runbooks/${file}`]) {
        expect(read(doc), `${doc} names ${name}`).toContain(`\`${name}\``);
      }
      for (const doc of ["docs/monitoring.md", "docs/ko/monitoring.md"]) {
        expect(read(doc), `${doc} lists ${name}`).toMatch(
          new RegExp(`^\\| \`${name}\` \\| ${ALERT_RULES.find((r) => r.name === name)?.severity} \\|`, "m"),
        );
      }
      expect(read("docs/monitoring.md")).toContain(`(runbooks/${runbook})`);
    },
  );
});
