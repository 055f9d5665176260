/**
 * converge.sh on an engine's monitoring files: Prometheus reloads only when prometheus.yml or the
 * alert rules change, Alertmanager only when alertmanager.yml does, nothing when nothing changed,
 * and a file their own tools refuse (`promtool`, `amtool`) is refused before anything is written.
 * The service control is a stand-in that records each call. No address is bound.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  convergeScript,
  ConvergeEntry,
  convergeEntries,
  renderConvergeBundle,
} from "../../cloud-init/converge";
import { Layout } from "../../cloud-init/layout";
import { monitoringPaths } from "../../cloud-init/monitoring";
import { localLayout, materialise, tempDir } from "./helpers";

const dir = tempDir("converge-mon");
const calls = path.join(dir, "service-calls");
const shim = path.join(dir, "service-control");
const layout = localLayout(dir, 100, { serviceControl: shim });
const script = path.join(dir, "blue/opt/yquant/bin/converge.sh");
const paths = monitoringPaths(layout, "blue");

function converge(l: Layout, edit: (e: ConvergeEntry) => ConvergeEntry = (e) => e) {
  fs.writeFileSync(calls, "");
  const r = spawnSync(script, [], {
    // Without the Valkey and Sentinel entries: no Valkey runs here (their actions talk to it).
    input: renderConvergeBundle(
      convergeEntries(l, "blue")
        .filter((e) => e.action !== "valkey" && e.action !== "sentinel")
        .map(edit),
    ),
    encoding: "utf8",
    timeout: 60_000,
  });
  return { ...r, calls: fs.readFileSync(calls, "utf8").trim().split("\n").filter(Boolean) };
}

beforeAll(() => {
  fs.writeFileSync(shim, `#!/bin/sh\necho "$*" >>${calls}\n`, { mode: 0o755 });
  materialise(layout, "blue");
  fs.writeFileSync(script, convergeScript());
  fs.chmodSync(script, 0o755);
  const first = converge(layout);
  if (first.status !== 0) throw new Error(`first converge exited ${first.status}: ${first.stderr}`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("converge.sh: monitoring reloads", () => {
  it("gives the engine's monitoring files their own actions", () => {
    const actions = convergeEntries(layout, "blue")
      .filter((e) => e.action === "prometheus" || e.action === "alertmanager")
      .map((e) => `${e.action} ${e.path}`);
    expect(actions).toEqual([
      `prometheus ${paths.prometheusConfig}`,
      `prometheus ${paths.rules}`,
      `alertmanager ${paths.alertmanagerConfig}`,
    ]);
  });

  it("reloads nothing when nothing changed", () => {
    const r = converge(layout);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toContain("every file is in force: nothing to do");
  });

  it("reloads Prometheus alone when the alert rules and prometheus.yml change", () => {
    const changed: Layout = { ...layout, monitoring: { ...layout.monitoring, evaluationIntervalSeconds: 3 } };
    const r = converge(changed);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(["reload prometheus"]);
    expect(r.stdout).toContain(`differs: ${paths.rules} (prometheus)`);
    expect(r.stdout).toContain(`differs: ${paths.prometheusConfig} (prometheus)`);
    const again = converge(changed);
    expect(again.calls).toEqual([]);
  });

  it("reloads Alertmanager alone when alertmanager.yml changes", () => {
    const changed: Layout = {
      ...layout,
      monitoring: { ...layout.monitoring, evaluationIntervalSeconds: 3, repeatIntervalSeconds: 7200 },
    };
    const r = converge(changed);
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(["reload prometheus-alertmanager"]);
  });

  it("refuses a rules file promtool rejects, before anything is written", () => {
    const before = fs.readFileSync(paths.rules, "utf8");
    const changed: Layout = { ...layout, drainSeconds: layout.drainSeconds + 1 };
    const r = converge(changed, (e) =>
      e.path === paths.rules
        ? { ...e, content: "groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: 'up =='\n" }
        : e,
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`converge.sh: refused: ${paths.rules}: promtool check rules:`);
    expect(r.stderr).toContain("converge.sh: nothing was changed on blue");
    expect(r.calls).toEqual([]);
    expect(fs.readFileSync(paths.rules, "utf8")).toBe(before);
  });
});
