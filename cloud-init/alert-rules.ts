/**
 * Every alert, once: its expression, how long it must hold, its severity, what it means and the
 * runbook step an on-call operator follows. `renderAlertRules` (cloud-init/monitoring-config.ts) turns this
 * table into Prometheus' rule file; tests/render/alert-rules.test.yml unit-tests each rule with
 * `promtool test rules`; docs/monitoring.md lists them (a test keeps the three in step).
 *
 * Metric names are the ones the packaged exporters emit (checked against Debian 12's HAProxy 2.6,
 * prometheus-redis-exporter 1.45 and prometheus-node-exporter 1.5 in tests/render), plus the
 * `yquant_*` textfile metrics of node-metrics.sh and sentinel-event.sh.
 */

import { DRAIN_SECONDS } from "../rules";

export type Severity = "critical" | "warning";

/** How long a condition must hold before the alert fires. */
export type Hold =
  /** A multiple of the evaluation interval, so the lab (1 s) and the cloud (15 s) share one rule. */
  | { readonly evaluations: number }
  /** A fixed time, for slow conditions (a disk filling, a certificate ageing). */
  | { readonly seconds: number };

export interface AlertRule {
  readonly name: string;
  /** PromQL. Replaced when rendered: `$HOLD` (MonitoringSettings.eventHoldSeconds), `$MASTER` and `$QUORUM` (Sentinel). */
  readonly expr: string;
  readonly hold: Hold;
  readonly severity: Severity;
  /** One line for the notification title; Prometheus template syntax allowed. */
  readonly summary: string;
  /** The runbook step, as `<file>#<anchor>` under docs/runbooks/. */
  readonly runbook: string;
}

const BACKEND = 'proxy=~"yquant_live_(blue|green)"';
const STAGING = 'proxy=~"yquant_staging_(blue|green)"';

/**
 * `and on(proxy)` the HAProxy backend named `<prefix><live color>`: the live color is what HAProxy
 * routes to (yquant_live_color, which node-metrics.sh reads from HAProxy's runtime switch map),
 * because each live backend holds both servers and only the routed one matters.
 */
const routed = (prefix: string): string =>
  ` and on(proxy) label_replace(yquant_live_color == 1, "proxy", "${prefix}$1", "color", "(blue|green)")`;

export const ALERT_RULES: readonly AlertRule[] = [
  {
    name: "LiveBackendNoHealthyServer",
    expr:
      `(haproxy_backend_active_servers{${BACKEND}} + haproxy_backend_backup_servers{${BACKEND}}) == 0` +
      routed("yquant_live_"),
    hold: { evaluations: 1 },
    severity: "critical",
    summary: "No app server is healthy behind the live frontend: live traffic fails",
    runbook: "app-failure.md#step-3-diagnose-on-the-failed-engine",
  },
  {
    name: "ActiveAppDown",
    expr: `haproxy_backend_active_servers{${BACKEND}} == 0` + routed("yquant_live_"),
    hold: { evaluations: 1 },
    severity: "critical",
    summary: "The active color's app failed its check; live traffic is on the standby",
    runbook: "app-failure.md#step-1-confirm-what-failed",
  },
  {
    name: "AppServerDown",
    expr: `haproxy_server_status{${BACKEND},state="UP"} == 0` + routed("yquant_live_"),
    hold: { evaluations: 2 },
    severity: "warning",
    summary: "HAProxy marks the {{ $labels.server }} app down",
    runbook: "app-failure.md#step-3-diagnose-on-the-failed-engine",
  },
  {
    name: "StandbyDown",
    expr: `haproxy_backend_active_servers{${STAGING}} == 0` + routed("yquant_staging_"),
    hold: { evaluations: 4 },
    severity: "warning",
    summary: "The standby color is down or unhealthy: no failover target, no staging",
    runbook: "app-failure.md#step-4-restart-the-app",
  },
  {
    name: "LiveColorUnknown",
    expr: "absent(yquant_live_color == 1)",
    hold: { evaluations: 4 },
    severity: "warning",
    summary: "The live color is unknown (HAProxy's switch map is not read): the app alerts are blind",
    runbook: "gate-failure.md#step-1-confirm-it-is-the-gate",
  },
  {
    name: "HaproxyDown",
    expr: 'up{job="haproxy"} == 0',
    hold: { evaluations: 2 },
    severity: "critical",
    summary: "HAProxy on the gate does not answer its metrics: the live entry may be down",
    runbook: "gate-failure.md#step-1-confirm-it-is-the-gate",
  },
  {
    name: "MessageMasterChanged",
    expr: '(time() - max(yquant_sentinel_event_last_timestamp_seconds{event="+switch-master"})) < $HOLD',
    hold: { evaluations: 1 },
    severity: "warning",
    summary: "Sentinel moved the message master (+switch-master)",
    runbook: "valkey-failure.md#step-1-see-what-sentinel-sees",
  },
  {
    name: "SentinelsDisagreeOnMaster",
    expr: 'count(count by (master_address) (redis_sentinel_master_status{master_name="$MASTER"})) > 1',
    hold: { evaluations: 8 },
    severity: "warning",
    summary: "The Sentinels name different message masters",
    runbook: "gate-failure.md#step-4-set-the-message-master-by-hand",
  },
  {
    name: "SentinelNoQuorum",
    expr:
      'redis_sentinel_master_ckquorum_status{master_name="$MASTER"} == 0 or on() ' +
      '(count(redis_up{store="sentinel"} == 1) < $QUORUM or absent(redis_up{store="sentinel"} == 1))',
    hold: { evaluations: 2 },
    severity: "critical",
    summary: "Sentinel cannot reach its quorum: a master failure would not be failed over",
    runbook: "valkey-failure.md#step-5-no-failover-happened",
  },
  {
    name: "SentinelDown",
    expr: 'redis_up{store="sentinel"} == 0',
    hold: { evaluations: 2 },
    severity: "warning",
    summary: "Sentinel on {{ $labels.node }} does not answer",
    runbook: "valkey-failure.md#step-5-no-failover-happened",
  },
  {
    name: "MessageValkeyDown",
    expr: 'redis_up{store="message"} == 0',
    hold: { evaluations: 1 },
    severity: "critical",
    summary: "The message Valkey on {{ $labels.node }} does not answer",
    runbook: "valkey-failure.md#step-3-bring-the-failed-valkey-back-as-a-replica",
  },
  {
    name: "ReplicationDown",
    expr:
      'redis_master_link_up{store="message"} == 0 or (redis_connected_slaves{store="message"} == 0 ' +
      'and on(instance) redis_instance_info{store="message",role="master"} == 1)',
    hold: { evaluations: 4 },
    severity: "critical",
    summary: "Message Valkey replication is down on {{ $labels.node }}: one copy of the data",
    runbook: "valkey-failure.md#step-3-bring-the-failed-valkey-back-as-a-replica",
  },
  {
    name: "ReplicationLagging",
    expr: 'redis_connected_slave_lag_seconds{store="message"} > 10',
    hold: { evaluations: 4 },
    severity: "warning",
    summary: "The message replica of {{ $labels.node }} lags {{ $value }} s behind",
    runbook: "valkey-failure.md#step-1-see-what-sentinel-sees",
  },
  {
    name: "TokenValkeyDown",
    expr: 'redis_up{store="token"} == 0',
    hold: { evaluations: 1 },
    severity: "critical",
    summary: "The token Valkey on the gate does not answer: brokerage tokens unavailable",
    runbook: "gate-failure.md#step-2-know-what-still-works",
  },
  {
    name: "ValkeyAofWriteFailed",
    expr: "redis_aof_last_write_status == 0 or redis_aof_last_bgrewrite_status == 0",
    hold: { evaluations: 1 },
    severity: "critical",
    summary:
      "Valkey ({{ $labels.store }} on {{ $labels.node }}) failed to write its AOF: writes are not durable",
    runbook: "node-health.md#step-1-a-disk-is-filling",
  },
  {
    name: "DrainOutlivedWindow",
    // HAProxy ends a drain by itself at the end time in its runtime map; an end further ahead than
    // any window a switch sets (rules.ts DRAIN_SECONDS) keeps old-color cookies honoured for good.
    expr: `yquant_drain_end_timestamp_seconds - time() > ${DRAIN_SECONDS[1]}`,
    hold: { evaluations: 2 },
    severity: "warning",
    summary:
      `The drain of {{ $labels.color }} ends more than ${DRAIN_SECONDS[1]} s from now: ` +
      "old-color cookies stay honoured past any switch's window",
    runbook: "deploy.md#step-4-traffic-switch",
  },
  {
    name: "DiskFilling",
    expr:
      'predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs"}[6h], 86400) < 0 ' +
      'and node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs"} / node_filesystem_size_bytes < 0.25',
    hold: { seconds: 1800 },
    severity: "warning",
    summary: "{{ $labels.mountpoint }} on {{ $labels.node }} fills within 24 h at this rate",
    runbook: "node-health.md#step-1-a-disk-is-filling",
  },
  {
    name: "DiskAlmostFull",
    expr: 'node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs"} / node_filesystem_size_bytes < 0.1',
    hold: { seconds: 300 },
    severity: "critical",
    summary: "{{ $labels.mountpoint }} on {{ $labels.node }} has less than 10 % free",
    runbook: "node-health.md#step-1-a-disk-is-filling",
  },
  {
    name: "TlsCertificateExpiresSoon",
    expr: "yquant_tls_certificate_expiry_timestamp_seconds - time() < 14 * 86400",
    hold: { seconds: 600 },
    severity: "warning",
    summary: "The gate's TLS certificate expires within 14 days",
    runbook: "node-health.md#step-2-the-tls-certificate-expires-soon",
  },
  {
    name: "NodeUnreachable",
    expr: 'up{job="node"} == 0',
    hold: { evaluations: 4 },
    severity: "critical",
    summary: "{{ $labels.node }} does not answer on the private network",
    runbook: "node-health.md#step-3-a-node-is-unreachable",
  },
  {
    name: "MonitoringPeerDown",
    expr: 'up{job=~"prometheus|alertmanager|valkey|sentinel"} == 0',
    hold: { evaluations: 4 },
    severity: "warning",
    summary: "{{ $labels.job }} on {{ $labels.node }} does not answer: monitoring runs on one engine only",
    runbook: "node-health.md#step-4-a-monitoring-service-is-down",
  },
];

/** The `for:` of a rule in Prometheus' duration syntax. */
export function holdDuration(hold: Hold, evaluationIntervalSeconds: number): string {
  const seconds = "seconds" in hold ? hold.seconds : hold.evaluations * evaluationIntervalSeconds;
  return `${seconds}s`;
}
