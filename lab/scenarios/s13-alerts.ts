/**
 * Scenario 13, alerts reach on-call: a fault, then the time until its alert reaches the local
 * webhook receiver (lab/webhook-receiver.py) through both engines' Prometheus servers and the
 * Alertmanager cluster, with the lab's 1-second scrapes and evaluations (the cloud's renderers).
 *
 * - SIGKILL of the active app (blue's frontend): `ActiveAppDown`;
 * - SIGSTOP of the active app (a hung process: HAProxy's checks time out): `ActiveAppDown`, then
 *   SIGCONT;
 * - `SENTINEL FAILOVER` of the message master: `MessageMasterChanged` (Sentinel's +switch-master,
 *   through sentinel-event.sh and node_exporter's textfile collector).
 *
 * Each fault is repeated `trials` times (each alert resolves before the next); the figures are the
 * medians. The baseline is restored at the end. The lab has no network partition (its nodes share
 * one loopback), so no partition figure is reported here.
 */
import { MONITORING_PORTS } from "../../cloud-init/monitoring";
import { Lab } from "../lab";
import { sleep, waitFor } from "../poll";
import { firingAlerts, waitForNotification } from "../monitoring";
import { httpGet } from "../probes";
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

/** Waits until both Prometheus servers are ready and `alertname` is not firing. */
async function quiet(lab: Lab, alertname: string, timeoutMs = ALERT_TIMEOUT_MS): Promise<void> {
  const ok = await waitFor(
    async () => {
      for (const color of ["blue", "green"] as const) {
        const r = await httpGet(`http://${lab.address(color)}:${MONITORING_PORTS.prometheus}/-/ready`, 1000);
        if (r.status !== 200) return undefined;
      }
      const { alerts } = await firingAlerts(lab);
      return alerts.some((a) => a.alertname === alertname) ? undefined : true;
    },
    timeoutMs,
    250,
  );
  if (!ok) throw new Error(`${alertname} still firing (or Prometheus not ready) after ${timeoutMs / 1000}s`);
}

export async function alertDelivery(ctx: ScenarioContext, trials = 3): Promise<Figures> {
  const { lab, log } = ctx;
  await baseline(lab, log);
  const appMs: number[] = [];
  const freezeMs: number[] = [];
  const failoverMs: number[] = [];

  for (let i = 1; i <= trials; i += 1) {
    await quiet(lab, "ActiveAppDown");
    const at = Date.now();
    lab.signal("blue", "yquant-frontend", "SIGKILL");
    const got = await waitForNotification(lab, "ActiveAppDown", at, ALERT_TIMEOUT_MS);
    log(`alerts: app kill ${i}: ${got === null ? "no notification" : `ActiveAppDown after ${got - at} ms`}`);
    if (got !== null) appMs.push(got - at);
    await ensureAllRunning(lab, log);
    await waitServerUp(lab, "blue");
  }

  for (let i = 1; i <= trials; i += 1) {
    await quiet(lab, "ActiveAppDown");
    const at = Date.now();
    lab.signal("blue", "yquant-frontend", "SIGSTOP");
    let got: number | null;
    try {
      got = await waitForNotification(lab, "ActiveAppDown", at, ALERT_TIMEOUT_MS);
    } finally {
      lab.signal("blue", "yquant-frontend", "SIGCONT");
    }
    log(
      `alerts: app freeze ${i}: ${got === null ? "no notification" : `ActiveAppDown after ${got - at} ms`}`,
    );
    if (got !== null) freezeMs.push(got - at);
    await waitServerUp(lab, "blue");
  }

  for (let i = 1; i <= trials; i += 1) {
    await quiet(lab, "MessageMasterChanged");
    const before = await agreedMaster(lab);
    // Sentinel refuses a failover (NOGOODSLAVE) until the last one's old master is a good replica
    // again: retry, bounded; the fault time is that of the accepted command.
    let at = Date.now();
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
    const got = await waitForNotification(lab, "MessageMasterChanged", at, ALERT_TIMEOUT_MS);
    log(
      `alerts: failover ${i} from ${before ?? "?"}: ${got === null ? "no notification" : `MessageMasterChanged after ${got - at} ms`}`,
    );
    if (got !== null) failoverMs.push(got - at);
    // The next failover needs the Sentinels to agree on the new master and the old one back as
    // its replica (Sentinel refuses or stalls a failover to a replica that is not in sync).
    const moved = await waitFor(
      async () => ((await agreedMaster(lab)) !== before ? true : undefined),
      60_000,
      250,
    );
    if (!moved) throw new Error(`failover ${i}: the Sentinels still name ${before ?? "?"} after 60 s`);
    if (before !== null) {
      await waitFor(
        async () => ((await valkeyRole(lab, before)) === "slave" ? true : undefined),
        60_000,
        250,
      );
    }
    await sleep(3000);
  }
  await baseline(lab, log);

  const f = new Figures();
  const ms = (v: number | null): number | null => (v === null ? null : round(v, 0));
  f.add(
    figure(
      "appDownAlerted",
      "active app killed: ActiveAppDown reached the webhook",
      `${appMs.length} of ${trials}`,
      "trials",
      `${trials} of ${trials}`,
      appMs.length === trials,
    ),
  );
  f.add(figure("appDownToAlertMs", "  median fault-to-webhook time", ms(median(appMs)), "ms", "report"));
  f.add(
    figure(
      "freezeAlerted",
      "active app frozen (SIGSTOP): ActiveAppDown reached the webhook",
      `${freezeMs.length} of ${trials}`,
      "trials",
      `${trials} of ${trials}`,
      freezeMs.length === trials,
    ),
  );
  f.add(figure("freezeToAlertMs", "  median fault-to-webhook time", ms(median(freezeMs)), "ms", "report"));
  f.add(
    figure(
      "failoverAlerted",
      "master failed over: MessageMasterChanged reached the webhook",
      `${failoverMs.length} of ${trials}`,
      "trials",
      `${trials} of ${trials}`,
      failoverMs.length === trials,
    ),
  );
  f.add(
    figure("failoverToAlertMs", "  median fault-to-webhook time", ms(median(failoverMs)), "ms", "report"),
  );
  return f;
}
