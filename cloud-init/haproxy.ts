/**
 * HAProxy configuration of the gate: one pure renderer, two variants (active blue, active green).
 *
 * The variants differ only in which server of `yquant_backend` is `backup`, where the staging
 * backend points, and which cookie value `ignore-persist` applies to (the drain). Every directive
 * below is in HAProxy 2.6's configuration manual and is accepted by `haproxy -c` (tests/render):
 *
 * - `option httpchk GET /health` + `http-check expect status 200`: the app's health endpoint.
 * - `default-server ... observe layer4 error-limit 1 on-error mark-down`: the first failed
 *   connection to a crashed app marks it down at once, instead of after `fall` check intervals.
 * - `retries 3`, `option redispatch 1`, `retry-on conn-failure empty-response response-timeout`:
 *   a request caught by the crash is retried, on another server (redispatch on every retry).
 * - `http-request disable-l7-retry if !{ method GET HEAD OPTIONS }`: everything but idempotent
 *   methods is retried only on `conn-failure`, i.e. when the request could not be sent at all. A POST
 *   (an order) that reached a server is never replayed; a POST whose connection failed may go to the
 *   other server, which never saw it.
 * - `ignore-persist if { req.cook(SERVERID) -m str <standby> } !yq_draining`: after a switch, a cookie
 *   naming the old color is honoured only while that color is listed in `draining.lst` (see
 *   docs/architecture.md, "HAProxy: switch and drain").
 */
import { Color, COLORS, Layout, bindAddresses, gateNode, nodePath, otherColor } from "./layout";

/** Paths on the gate, rooted at the gate's root. */
export function haproxyPaths(layout: Layout): {
  config: string;
  variantDir: string;
  variant: (color: Color) => string;
  draining: string;
  pem: string;
  adminSocket: string;
  pidfile: string;
  serverState: string;
} {
  const p = (abs: string): string => nodePath(layout, gateNode(layout.topology), abs);
  return {
    config: p("/etc/haproxy/haproxy.cfg"),
    variantDir: p("/etc/haproxy/yquant"),
    variant: (color: Color) => p(`/etc/haproxy/yquant/haproxy-active-${color}.cfg`),
    draining: p("/etc/haproxy/yquant/draining.lst"),
    pem: p("/etc/haproxy/certs/yquant.pem"),
    adminSocket: p("/run/haproxy/admin.sock"),
    pidfile: p("/run/haproxy.pid"),
    serverState: p("/var/lib/haproxy/server-state"),
  };
}

function section(header: string, lines: readonly string[]): string {
  return [header, ...lines.map((line) => `    ${line}`)].join("\n");
}

/** The HAProxy file that is in force while `active` takes live traffic. Pure. */
export function renderHaproxyVariant(layout: Layout, active: Color): string {
  if (!(COLORS as readonly string[]).includes(active)) {
    throw new Error(
      `renderHaproxyVariant: color must be one of ${COLORS.join(", ")}, got "${String(active)}"`,
    );
  }
  const paths = haproxyPaths(layout);
  const standby = otherColor(active);
  const { ports } = layout;
  const admins = [...layout.adminCidrs, "127.0.0.0/8"].join(" ");
  const ip = (color: Color): string => layout.nodes[color].privateIp;

  const global = [
    ...(layout.production
      ? ["log /dev/log local0", "chroot /var/lib/haproxy", "user haproxy", "group haproxy"]
      : []),
    ...(layout.production ? [] : ["log stderr format raw local0 notice"]),
    "master-worker",
    `pidfile ${paths.pidfile}`,
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
    "timeout server 30s",
    "timeout http-request 10s",
    "timeout http-keep-alive 10s",
    "timeout queue 5s",
    "timeout check 2s",
    "retries 3",
    "option redispatch 1",
    "retry-on conn-failure empty-response response-timeout",
    "load-server-state-from-file global",
    "default-server inter 1s fastinter 250ms downinter 1s rise 2 fall 2 observe layer4 error-limit 1 on-error mark-down",
  ];

  const live = [
    `bind ${layout.publicBind}:${ports.http}`,
    `bind ${layout.publicBind}:${ports.https} ssl crt ${paths.pem}`,
    "option forwardfor",
    "http-request set-header X-Forwarded-Proto https if { ssl_fc }",
    "http-request set-header X-Forwarded-Proto http if !{ ssl_fc }",
    "default_backend yquant_backend",
  ];

  const backend = [
    "balance roundrobin",
    "cookie SERVERID insert indirect nocache",
    "option httpchk GET /health",
    "http-check expect status 200",
    "http-request disable-l7-retry if !{ method GET HEAD OPTIONS }",
    `acl yq_draining req.cook(SERVERID) -m str -f ${paths.draining}`,
    `ignore-persist if { req.cook(SERVERID) -m str ${standby} } !yq_draining`,
    ...COLORS.map((color) =>
      color === active
        ? `server ${color} ${ip(color)}:${ports.app} check cookie ${color}`
        : `server ${color} ${ip(color)}:${ports.app} check backup cookie ${color}`,
    ),
  ];

  const stagingFrontend = [
    `bind ${layout.publicBind}:${ports.staging}`,
    `acl yq_admin src ${admins}`,
    "http-request deny unless yq_admin",
    "option forwardfor",
    "default_backend yquant_staging",
  ];

  const stagingBackend = [
    "option httpchk GET /health",
    "http-check expect status 200",
    "http-request disable-l7-retry if !{ method GET HEAD OPTIONS }",
    `server ${standby} ${ip(standby)}:${ports.app} check`,
  ];

  const stats = [
    ...bindAddresses(layout, gateNode(layout.topology)).map((address) => `bind ${address}:${ports.stats}`),
    `acl yq_admin src ${admins}`,
    "http-request deny unless yq_admin",
    "http-request use-service prometheus-exporter if { path /metrics }",
    "stats enable",
    "stats uri /stats",
    "stats refresh 10s",
    "http-request set-log-level silent",
  ];

  return (
    [
      `# Rendered by yquant-infra (cloud-init/haproxy.ts). Variant: active ${active}, standby ${standby}.`,
      "# switch-active.sh copies one variant over haproxy.cfg; do not edit by hand.",
      section("global", global),
      section("defaults", defaults),
      section("frontend yquant_live", live),
      section("backend yquant_backend", backend),
      section("frontend yquant_staging", stagingFrontend),
      section("backend yquant_staging", stagingBackend),
      section("frontend yquant_stats", stats),
    ].join("\n\n") + "\n"
  );
}
