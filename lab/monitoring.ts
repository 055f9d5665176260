/**
 * The lab's side of monitoring: the local webhook receiver that stands in for the on-call chat
 * (lab/webhook-receiver.py, run by the lab's shim like any unit), the firing alerts as both
 * engines' Prometheus servers see them (`npm run lab -- alerts`), and the notifications the receiver
 * got (for the lab test and the bench).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { COLORS, Color } from "../cloud-init/layout";
import { MONITORING_PORTS } from "../cloud-init/monitoring";
import { Lab } from "./lab";
import { waitFor } from "./poll";
import { runAsync } from "./processes";
import { LAB_WEBHOOK, REPO_ROOT, SERVICE_CONTROL } from "./layout";
import { httpGet } from "./probes";

export const RECEIVER_UNIT = "yquant-webhook-receiver";

/** The receiver's own root (it is no node of the layout: it is the outside world). */
export function receiverRoot(lab: Lab): string {
  return path.join(lab.dir, "oncall");
}

/** Where the receiver appends one JSON line per notification. */
export function receiverLog(lab: Lab): string {
  return path.join(receiverRoot(lab), "var", "log", "webhook.jsonl");
}

function shim(lab: Lab, verb: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return runAsync(SERVICE_CONTROL, [verb, RECEIVER_UNIT], { ...process.env, YQ_ROOT: receiverRoot(lab) });
}

/** Writes the receiver's unit file and starts it (idempotent). */
export async function startReceiver(lab: Lab): Promise<void> {
  const root = receiverRoot(lab);
  const unitDir = path.join(root, "etc", "systemd", "system");
  fs.mkdirSync(unitDir, { recursive: true });
  fs.mkdirSync(path.dirname(receiverLog(lab)), { recursive: true });
  const exec = [
    "/usr/bin/python3",
    path.join(REPO_ROOT, "lab", "webhook-receiver.py"),
    `--bind ${LAB_WEBHOOK.address} --port ${LAB_WEBHOOK.port} --out ${receiverLog(lab)}`,
  ].join(" ");
  fs.writeFileSync(
    path.join(unitDir, `${RECEIVER_UNIT}.service`),
    `[Unit]\nDescription=lab on-call webhook receiver\n\n[Service]\nExecStart=${exec}\n`,
  );
  const r = await shim(lab, "start");
  if (r.status !== 0) throw new Error(`webhook receiver did not start: ${(r.stderr || r.stdout).trim()}`);
}

export async function stopReceiver(lab: Lab): Promise<boolean> {
  if (!fs.existsSync(receiverRoot(lab))) return false;
  const running = (await shim(lab, "is-active")).status === 0;
  if (running) await shim(lab, "stop");
  return running;
}

/** One alert of a webhook notification (Alertmanager's webhook JSON, version 4). */
export interface NotifiedAlert {
  readonly status: "firing" | "resolved";
  readonly labels: Record<string, string>;
  readonly startsAt: string;
}

export interface Notification {
  readonly receivedAtMs: number;
  readonly alerts: readonly NotifiedAlert[];
}

/** Every notification the receiver recorded, oldest first. */
export function notifications(lab: Lab): Notification[] {
  let text = "";
  try {
    text = fs.readFileSync(receiverLog(lab), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const entry = JSON.parse(line) as { receivedAtMs: number; payload: { alerts?: NotifiedAlert[] } };
      return { receivedAtMs: entry.receivedAtMs, alerts: entry.payload?.alerts ?? [] };
    });
}

/**
 * Waits until the receiver got a firing `alertname` that started at or after `sinceEpochMs` (less
 * one evaluation of slack). Resolves with the receive time (epoch ms), or null on timeout.
 */
export async function waitForNotification(
  lab: Lab,
  alertname: string,
  sinceEpochMs: number,
  timeoutMs: number,
): Promise<number | null> {
  const slack = lab.layout.monitoring.evaluationIntervalSeconds * 1000 + 1000;
  const found = await waitFor(
    () =>
      notifications(lab).find(
        (n) =>
          n.receivedAtMs >= sinceEpochMs &&
          n.alerts.some(
            (a) =>
              a.status === "firing" &&
              a.labels.alertname === alertname &&
              Date.parse(a.startsAt) >= sinceEpochMs - slack,
          ),
      )?.receivedAtMs,
    timeoutMs,
    200,
  );
  return found ?? null;
}

/** A firing alert as Prometheus reports it. */
export interface FiringAlert {
  readonly alertname: string;
  readonly severity: string;
  readonly node: string;
  readonly labels: Record<string, string>;
  readonly activeAt: string;
  readonly summary: string;
  readonly runbook: string;
  /** Which engines' Prometheus report it. */
  readonly seenBy: Color[];
}

export interface LabAlerts {
  readonly schema: "yquant-lab-alerts/1";
  /** Per engine: "ok", or why its Prometheus could not be asked. */
  readonly sources: Record<Color, string>;
  readonly alerts: FiringAlert[];
}

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt: string;
}

/** The firing alerts of both engines' Prometheus servers, merged (same labels = same alert). */
export async function firingAlerts(lab: Lab): Promise<LabAlerts> {
  const sources = {} as Record<Color, string>;
  const merged = new Map<string, FiringAlert>();
  for (const color of COLORS) {
    try {
      const url = `http://${lab.address(color)}:${MONITORING_PORTS.prometheus}/api/v1/alerts`;
      const r = await httpGet(url, 2000);
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      const body = JSON.parse(r.body) as { data: { alerts: PromAlert[] } };
      for (const a of body.data.alerts.filter((x) => x.state === "firing")) {
        const key = JSON.stringify(Object.entries(a.labels).sort());
        const seen = merged.get(key);
        if (seen) seen.seenBy.push(color);
        else
          merged.set(key, {
            alertname: a.labels.alertname ?? "",
            severity: a.labels.severity ?? "",
            node: a.labels.node ?? "",
            labels: a.labels,
            activeAt: a.activeAt,
            summary: a.annotations.summary ?? "",
            runbook: a.annotations.runbook ?? "",
            seenBy: [color],
          });
      }
      sources[color] = "ok";
    } catch (err) {
      sources[color] = (err as Error).message;
    }
  }
  const alerts = [...merged.values()].sort(
    (a, b) => a.alertname.localeCompare(b.alertname) || a.node.localeCompare(b.node),
  );
  return { schema: "yquant-lab-alerts/1", sources, alerts };
}

export function formatAlerts(r: LabAlerts): string {
  const lines = COLORS.map((c) => `prometheus on ${c}: ${r.sources[c]}`);
  if (r.alerts.length === 0) return [...lines, "", "no alert is firing"].join("\n");
  const rows = [
    ["alert", "severity", "node", "since", "summary"],
    ...r.alerts.map((a) => [a.alertname, a.severity, a.node || "-", a.activeAt.slice(11, 19), a.summary]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  return [
    ...lines,
    "",
    ...rows.map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    ),
  ].join("\n");
}
