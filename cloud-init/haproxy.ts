/**
 * HAProxy configuration of the gate: one pure renderer, one file, the same whichever color is live.
 *
 * The live color is not in the configuration: it is an entry of the switch map
 * (`/etc/haproxy/yquant/switch.map`, format below), which `switch-active.sh` changes through the admin
 * socket (`prepare map` / `add map @<ver>` / `commit map`: one atomic change, no reload, no connection
 * closed) after writing the same content to the file (so a reload or a restart keeps it). Every
 * directive and runtime command used here is in HAProxy 2.6's manuals (Debian 12) and still in 2.8's
 * (Ubuntu 24.04); `haproxy -c` checks the file in tests/render.
 *
 * - Live traffic: `use_backend yquant_live_%[str(live),map(<switch map>,blue)]`. Backend
 *   `yquant_live_<color>` holds the document's lines with `<color>` active and the other color `backup`.
 *   Staging goes to `yquant_staging_<color>`: the server that is standby while `<color>` is live.
 * - The drain: the map holds `drain-<color> <epoch seconds>`, when cookies naming `<color>` stop being
 *   honoured after `<color>` stopped being live. HAProxy compares it with the request's `date`, so the
 *   drain ends by itself at that time, also after a crash of the switch, a reload, a restart or a boot.
 *   `0` means no drain.
 * - Health: each color is checked once, by its own server in `yquant_live_<color>`: `option httpchk
 *   GET /health`, then `http-check expect` status 200, `"status": "ok"` and `"color": "<color>"` (the
 *   /health contract as regular expressions, compact or pretty JSON: `HEALTH_EXPECT`) every `inter`.
 *   Every other server line of that color (the backup in the other live backend, the staging server)
 *   `track`s it. `switch-active.sh` still probes the target itself (that state lags an app that has
 *   just died). The
 *   first failed connection to a crashed app marks it down at once (`observe layer4 error-limit 1
 *   on-error mark-down`); a frozen app fails its checks within about 1.75 s (`inter 500ms`, `timeout
 *   check 500ms`, `fall 2`, `fastinter 250ms`).
 * - Retries: `retries 3`, `option redispatch 1`, `retry-on conn-failure empty-response
 *   response-timeout`. GET, HEAD and OPTIONS wait for a response at most `GET_TIMEOUT` per attempt, so
 *   a GET caught by a frozen app is sent again (to the other color once the frozen one is down); every
 *   other method is retried only on `conn-failure` (`disable-l7-retry`), so a POST that reached a server
 *   is never replayed, and gets a 504 after `timeout server` instead. Trade-off: docs/architecture.md.
 */
import { Color, COLORS, Layout, bindAddresses, gateNode, nodePath, otherColor } from "./layout";
import { monitoringServers } from "./monitoring";

/** How long one attempt of a GET, HEAD or OPTIONS request may wait for the server's response. */
export const GET_TIMEOUT = "1s";
/** How long any other request (a POST: an order) waits for the server's response before a 504. */
export const SERVER_TIMEOUT = "3s";

/**
 * The /health contract (docs/architecture.md) as HAProxy's check sees it: regular expressions over the
 * body, any whitespace around the colon. `health-check.sh` and a refused switch parse it as JSON.
 */
export function healthExpect(color: Color): string[] {
  const field = (key: string, value: string): string =>
    `http-check expect rstring "\\"${key}\\"[[:space:]]*:[[:space:]]*\\"${value}\\""`;
  return [
    "option httpchk GET /health",
    "http-check expect status 200",
    field("status", "ok"),
    field("color", color),
  ];
}

/** Paths on the gate, rooted at the gate's root. */
export function haproxyPaths(layout: Layout): {
  config: string;
  switchMap: string;
  pem: string;
  adminSocket: string;
  serverState: string;
} {
  const p = (abs: string): string => nodePath(layout, gateNode(layout.topology), abs);
  return {
    config: p("/etc/haproxy/haproxy.cfg"),
    switchMap: p("/etc/haproxy/yquant/switch.map"),
    pem: p("/etc/haproxy/certs/yquant.pem"),
    adminSocket: p("/run/haproxy/admin.sock"),
    serverState: p("/var/lib/haproxy/server-state"),
  };
}

/** What the switch map holds: the live color and, per color, when its drain ends (epoch s, 0: none). */
export interface SwitchState {
  readonly live: Color;
  readonly drainUntil: Readonly<Record<Color, number>>;
}

/** The switch map's text (the format `switch-active.sh` writes and parses). Pure. */
export function renderSwitchMap(state: SwitchState): string {
  if (!(COLORS as readonly string[]).includes(state.live)) {
    throw new Error(`renderSwitchMap: live must be one of ${COLORS.join(", ")}, got "${String(state.live)}"`);
  }
  return [`live ${state.live}`, ...COLORS.map((c) => `drain-${c} ${state.drainUntil[c]}`)].join("\n") + "\n";
}

function section(header: string, lines: readonly string[]): string {
  return [header, ...lines.map((line) => `    ${line}`)].join("\n");
}

/** The gate's `haproxy.cfg`. Pure; takes no color. */
export function renderHaproxyConfig(layout: Layout): string {
  const paths = haproxyPaths(layout);
  const { ports } = layout;
  const admins = [...layout.adminCidrs, "127.0.0.0/8"].join(" ");
  const ip = (color: Color): string => layout.nodes[color].privateIp;
  const map = paths.switchMap;

  const global = [
    ...(layout.production
      ? ["log /dev/log local0", "chroot /var/lib/haproxy", "user haproxy", "group haproxy"]
      : []),
    // One line per request (option httplog: backend/server = the color that served it, status,
    // timers): to syslog/journald on a VM, to the lab's haproxy.log in the lab.
    ...(layout.production ? [] : ["log stderr format raw local0 info"]),
    // No `pidfile`: the packaged unit and the lab both pass `-p`, and both at once is an ALERT.
    "master-worker",
    `stats socket ${paths.adminSocket} mode 660 level admin expose-fd listeners`,
    "stats timeout 30s",
    `server-state-file ${paths.serverState}`,
    "hard-stop-after 60s",
    "ssl-default-bind-options ssl-min-ver TLSv1.2",
  ];

  const defaults = [
    "mode http",
    "log global",
    "option httplog",
    "option dontlognull",
    "timeout connect 2s",
    "timeout client 30s",
    `timeout server ${SERVER_TIMEOUT}`,
    "timeout http-request 10s",
    "timeout http-keep-alive 10s",
    "timeout queue 5s",
    "timeout check 500ms",
    "retries 3",
    "option redispatch 1",
    "retry-on conn-failure empty-response response-timeout",
    "load-server-state-from-file global",
    "default-server inter 500ms fastinter 250ms downinter 1s rise 2 fall 2 observe layer4 error-limit 1 on-error mark-down",
  ];

  const live = [
    `bind ${layout.publicBind}:${ports.http}`,
    `bind ${layout.publicBind}:${ports.https} ssl crt ${paths.pem}`,
    "option forwardfor",
    "http-request set-header X-Forwarded-Proto https if { ssl_fc }",
    "http-request set-header X-Forwarded-Proto http if !{ ssl_fc }",
    "http-request set-var(txn.yq_now) date",
    `use_backend yquant_live_%[str(live),map(${map},blue)]`,
    "default_backend yquant_live_blue",
  ];

  const retryRules = [
    "http-request disable-l7-retry if !{ method GET HEAD OPTIONS }",
    `http-request set-timeout server ${GET_TIMEOUT} if { method GET HEAD OPTIONS }`,
  ];

  const liveBackend = (active: Color): string[] => {
    const standby = otherColor(active);
    return [
      "balance roundrobin",
      "cookie SERVERID insert indirect nocache",
      ...healthExpect(active),
      ...retryRules,
      `acl yq_draining str(drain-${standby}),map(${map},0),sub(txn.yq_now) gt 0`,
      `ignore-persist if { req.cook(SERVERID) -m str ${standby} } !yq_draining`,
      ...COLORS.map((color) =>
        color === active
          ? `server ${color} ${ip(color)}:${ports.app} check cookie ${color}`
          : `server ${color} ${ip(color)}:${ports.app} backup cookie ${color} track yquant_live_${color}/${color}`,
      ),
    ];
  };

  const stagingFrontend = [
    `bind ${layout.publicBind}:${ports.staging}`,
    `acl yq_admin src ${admins}`,
    "http-request deny unless yq_admin",
    "option forwardfor",
    `use_backend yquant_staging_%[str(live),map(${map},blue)]`,
    "default_backend yquant_staging_blue",
  ];

  const stagingBackend = (active: Color): string[] => {
    const standby = otherColor(active);
    return [
      ...retryRules,
      `server ${standby} ${ip(standby)}:${ports.app} track yquant_live_${standby}/${standby}`,
    ];
  };

  // The monitoring servers' Prometheus scrape /metrics (cloud-init/monitoring.ts).
  const scrapers = monitoringServers(layout).map((n) => `${layout.nodes[n].privateIp}/32`);
  const stats = [
    ...bindAddresses(layout, gateNode(layout.topology)).map((address) => `bind ${address}:${ports.stats}`),
    `acl yq_admin src ${[admins, ...scrapers].join(" ")}`,
    "http-request deny unless yq_admin",
    "http-request use-service prometheus-exporter if { path /metrics }",
    "stats enable",
    "stats uri /stats",
    "stats refresh 10s",
    "http-request set-log-level silent",
  ];

  return (
    [
      "# Rendered by yquant-infra (cloud-init/haproxy.ts); do not edit by hand. The live color is in",
      `# ${map}, which switch-active.sh changes at runtime and on disk.`,
      section("global", global),
      section("defaults", defaults),
      section("frontend yquant_live", live),
      ...COLORS.map((c) => section(`backend yquant_live_${c}`, liveBackend(c))),
      section("frontend yquant_staging", stagingFrontend),
      ...COLORS.map((c) => section(`backend yquant_staging_${c}`, stagingBackend(c))),
      section("frontend yquant_stats", stats),
    ].join("\n\n") + "\n"
  );
}
