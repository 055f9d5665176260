/**
 * Scenario 13, alerts reach on-call: a fault, then the time until its alert reaches the local
 * webhook receiver (lab/webhook-receiver.py) through both engines' Prometheus servers and the
 * Alertmanager cluster, with the lab's 1-second scrapes and evaluations (the cloud's renderers).
 *
 * - `appKill`: SIGKILL of the active app (blue's frontend): `ActiveAppDown`;
 * - `appFreeze`: SIGSTOP of the active app (a hung process: HAProxy's checks time out):
 *   `ActiveAppDown`, then SIGCONT;
 * - `failover`: `SENTINEL FAILOVER` of the message master: `MessageMasterChanged` (Sentinel's
 *   +switch-master, through sentinel-event.sh and node_exporter's textfile collector);
 * - `masterKill`: SIGKILL of the message master's Valkey: `MessageValkeyDown`, then
 *   `MessageMasterChanged` once the Sentinels failed over; the old master is started again;
 * - `partition`: `lab partition <master>` (every packet between its address and the other nodes'
 *   dropped, lab/partition.ts): `MessageMasterChanged` once the majority failed over; then `heal`.
 *   (`ReplicationDown` is not waited for: after the kills it could stay pending for over a minute
 *   while the replicas resynced, so its time would not be the partition's.) Only inside a named
 *   network namespace (else reported as not run). The lab's scrapes come from 127.0.0.1, which a
 *   partition does not cut, so `NodeUnreachable` cannot fire here (on the VMs it would).
 *
 * Each fault is repeated `trials` times (each alert resolves before the next); the figures are the
 * medians. The baseline is restored at the end.
 */
import { MONITORING_PORTS } from "../../cloud-init/monitoring";
import { Lab } from "../lab";
import { sleep, waitFor } from "../poll";
import { waitForNotification } from "../monitoring";
import { httpGet } from "../probes";
import { currentNetns, heal, partition } from "../partition";
import { respCommand } from "../resp";
import {
  Figures,
  ScenarioContext,
  agreedMaster,
  baseline,
  ensureAllRunning,
  figure,
  round,
  sentinelAdminTarget,
  valkeyRole,
  waitServerUp,
} from "./common";

/** Bound on each fault-to-notification wait: generous, the lab takes seconds. */
export const ALERT_TIMEOUT_MS = 60_000;

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Waits until both Prometheus servers are ready and neither has `alertname` firing or pending: a
 * condition left pending by the last trial's recovery (a replica still syncing) would otherwise fire
 * right after the next fault and be counted as its alert.
 */
async function quiet(lab: Lab, alertname: string, timeoutMs = ALERT_TIMEOUT_MS): Promise<void> {
  const ok = await waitFor(
    async () => {
      for (const color of ["blue", "green"] as const) {
        const base = `http://${lab.address(color)}:${MONITORING_PORTS.prometheus}`;
        if ((await httpGet(`${base}/-/ready`, 1000)).status !== 200) return undefined;
        const r = await httpGet(`${base}/api/v1/alerts`, 2000);
        const body = JSON.parse(r.body) as { data: { alerts: { labels: Record<string, string> }[] } };
        if (r.status !== 200 || body.data.alerts.some((a) => a.labels.alertname === alertname))
          return undefined;
      }
      return true;
    },
    timeoutMs,
    250,
  );
  if (!ok)
    throw new Error(
      `${alertname} still firing or pending (or Prometheus not ready) after ${timeoutMs / 1000}s`,
    );
}

/** The faults of this scenario, in the order they run. */
export const ALERT_FAULTS = ["appKill", "appFreeze", "failover", "masterKill", "partition"] as const;
export type AlertFault = (typeof ALERT_FAULTS)[number];

type MasterFault = "failover" | "masterKill" | "partition";

/** The alerts each master fault waits for (the first is the one its figure names). */
const MASTER_ALERTS: Readonly<Record<MasterFault, readonly string[]>> = {
  failover: ["MessageMasterChanged"],
  masterKill: ["MessageValkeyDown", "MessageMasterChanged"],
  partition: ["MessageMasterChanged"],
};

/** One fault of the message master: fault-to-webhook ms per alert (null: not received). */
async function masterTrial(lab: Lab, fault: MasterFault, i: number, log: (l: string) => void) {
  const alerts = MASTER_ALERTS[fault];
  for (const name of alerts) await quiet(lab, name);
  const before = await agreedMaster(lab);
  if (before === null) throw new Error(`${fault} ${i}: the Sentinels agree on no master`);
  let at = Date.now();
  if (fault === "failover") {
    // Sentinel refuses a failover (NOGOODSLAVE) until the last one's old master is a good replica
    // again: retry, bounded; the fault time is that of the accepted command.
    const accepted = await waitFor(
      async () => {
        at = Date.now();
        // The Sentinel admin user: the apps' user may only ask for the master's address.
        const reply = await respCommand(
          sentinelAdminTarget(lab, "gate", 2000),
          "SENTINEL",
          "FAILOVER",
          lab.layout.sentinel.masterName,
        );
        return reply === "OK" ? true : undefined;
      },
      30_000,
      500,
    );
    if (!accepted) throw new Error(`SENTINEL FAILOVER not accepted within 30 s (trial ${i})`);
  } else if (fault === "masterKill") {
    lab.signal(before, "valkey-server", "SIGKILL");
  } else {
    partition(lab.layout, before);
  }
  const got: Record<string, number | null> = {};
  try {
    const times = await Promise.all(alerts.map((a) => waitForNotification(lab, a, at, ALERT_TIMEOUT_MS)));
    alerts.forEach((a, k) => (got[a] = times[k] === null ? null : (times[k] as number) - at));
  } finally {
    if (fault === "partition") heal(lab.layout, before);
    if (fault === "masterKill") await lab.start(before, "valkey-server");
  }
  log(`alerts: ${fault} ${i} of ${before}: ${alerts.map((a) => `${a} ${got[a] ?? "none"} ms`).join(", ")}`);
  // The next fault needs the Sentinels to agree on the new master and the old one back as its
  // replica (Sentinel refuses or stalls a failover to a replica that is not in sync).
  const moved = await waitFor(
    async () => ((await agreedMaster(lab)) !== before ? true : undefined),
    60_000,
    250,
  );
  if (!moved) throw new Error(`${fault} ${i}: the Sentinels still name ${before} after 60 s`);
  await waitFor(async () => ((await valkeyRole(lab, before)) === "slave" ? true : undefined), 60_000, 250);
  await sleep(3000);
  return got;
}

/** One fault of the active app (blue's frontend): fault-to-webhook ms of ActiveAppDown, or null. */
async function appTrial(lab: Lab, fault: "appKill" | "appFreeze", i: number, log: (l: string) => void) {
  await quiet(lab, "ActiveAppDown");
  const at = Date.now();
  lab.signal("blue", "yquant-frontend", fault === "appKill" ? "SIGKILL" : "SIGSTOP");
  let got: number | null;
  try {
    got = await waitForNotification(lab, "ActiveAppDown", at, ALERT_TIMEOUT_MS);
  } finally {
    if (fault === "appFreeze") lab.signal("blue", "yquant-frontend", "SIGCONT");
  }
  log(`alerts: ${fault} ${i}: ${got === null ? "no notification" : `ActiveAppDown after ${got - at} ms`}`);
  if (fault === "appKill") await ensureAllRunning(lab, log);
  await waitServerUp(lab, "blue");
  return got === null ? null : got - at;
}

/** What each fault's figures are called (the keys are those of the first version of this scenario). */
const LABELS: Readonly<Record<AlertFault, { key: string; what: string }>> = {
  appKill: { key: "appDown", what: "active app killed" },
  appFreeze: { key: "freeze", what: "active app frozen (SIGSTOP)" },
  failover: { key: "failover", what: "master failed over (SENTINEL FAILOVER)" },
  masterKill: { key: "masterKill", what: "message master's Valkey killed" },
  partition: { key: "partition", what: "message master partitioned" },
};

export async function alertDelivery(
  ctx: ScenarioContext,
  trials = 3,
  faults: readonly AlertFault[] = ALERT_FAULTS,
): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const f = new Figures();
  const ms = (v: number | null): number | null => (v === null ? null : round(v, 0));
  for (const fault of faults) {
    const { key, what } = LABELS[fault];
    if (fault === "partition" && currentNetns() === null) {
      log("alerts: partition skipped: not inside a named network namespace (lab/partition.ts)");
      f.add(figure(`${key}Alerted`, `${what}: not run (needs a named network namespace)`, null, "trials"));
      continue;
    }
    const perAlert = new Map<string, number[]>();
    for (let i = 1; i <= trials; i += 1) {
      const got: Record<string, number | null> =
        fault === "appKill" || fault === "appFreeze"
          ? { ActiveAppDown: await appTrial(lab, fault, i, log) }
          : await masterTrial(lab, fault, i, log);
      for (const [name, v] of Object.entries(got)) {
        const list = perAlert.get(name) ?? [];
        if (v !== null) list.push(v);
        perAlert.set(name, list);
      }
    }
    [...perAlert.entries()].forEach(([name, values], k) => {
      // The first alert keeps the scenario's first keys (appDownAlerted, appDownToAlertMs, ...).
      const id = k === 0 ? key : `${key}.${name}`;
      f.add(
        figure(
          `${id}Alerted`,
          `${what}: ${name} reached the webhook`,
          `${values.length} of ${trials}`,
          "trials",
          `${trials} of ${trials}`,
          values.length === trials,
        ),
      );
      f.add(figure(`${id}ToAlertMs`, "  median fault-to-webhook time", ms(median(values)), "ms", "report"));
    });
  }
  await baseline(lab, log);
  return f;
}
