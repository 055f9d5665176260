/**
 * Cloud-init user data of each node, built from the per-node file list.
 *
 * Order on first boot (cloud-init's own module order on Ubuntu 24.04):
 * 1. init stage (cloud-init.service, ordered before sysinit.target and sshd): `bootcmd` only queues
 *    the first boot's wait for package sources as a systemd unit and returns at once; `write_files`
 *    entries without `defer` (only `/usr/sbin/policy-rc.d`, which stops the packages below from
 *    starting their services with their package defaults), then `users` (the `yquant` system user);
 * 2. the wait (`yquant-package-sources`, after network-online.target, before cloud-final.service):
 *    bounded, it never holds back SSH or any other service;
 * 3. final stage (cloud-final.service): `package_update` + `packages`, then `write_files` entries
 *    with `defer: true` (every config file, script and unit: they land after the packages, so no
 *    package default wins), then `runcmd` (`setup.sh`: checks the packages, removes the policy-rc.d,
 *    firewall, units, restarts the services).
 *
 * Size: OCI caps an instance's metadata (`user_data` base64-encoded, plus `ssh_authorized_keys`) at
 * 32,000 bytes in total. OCI Compute documentation, "Updating Instance Metadata"
 * (docs.cloud.oracle.com/iaas/Content/Compute/Tasks/updatinginstancemetada.htm): "The metadata
 * attribute supports key/value string pairs. The extendedMetadata attribute supports nested JSON
 * objects. The combined size of these two attributes can be a maximum of 32,000 bytes." The program
 * gzips the whole user data once (cloud-init takes gzip), so every file is carried as plain text: one
 * gzip over all of them finds what the scripts share, where a `gz+b64` per file (as until
 * 2026-12-02) cost the gate 3,876 bytes more at the config's limits. Each script goes only where
 * it runs, and `renderUserData` throws
 * past the limit; tests/render asserts every node's base64 user data stays under it with room for
 * the SSH key. cloud-init/write-files.ts reads the files back for the lab and the render command.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as yaml from "js-yaml";
import { Layout, NodeName, nodePath, nodeSpec, roleOf } from "./layout";
import type { ScriptName } from "./topology";
import { WRITE_FILES_DEFAULTS } from "./write-files";
import { haproxyPaths, renderHaproxyConfig } from "./haproxy";
import {
  MESSAGE_REPLICA_UNIT,
  renderMessageReplica,
  renderMessageValkey,
  renderSentinel,
  renderTokenValkey,
  valkeyPaths,
} from "./valkey";
import { monitoringScripts } from "./monitoring";
import { monitoringFiles } from "./monitoring-files";
import { readScript } from "./scripts";
import {
  RenderError,
  renderAppUnit,
  renderFirewallRules,
  renderNodeEnv,
  renderValkeyAdminEnv,
  renderValkeyEnv,
  validateLayout,
} from "./node-config";

export { renderHaproxyConfig } from "./haproxy";
export { RenderError, validateLayout } from "./node-config";

/** OCI's documented limit on an instance's metadata (user_data base64 + ssh_authorized_keys). */
export const OCI_METADATA_LIMIT_BYTES = 32_000;

export { SCRIPT_NAMES } from "./topology";

/**
 * Scripts that are not in the user data: promote-master.sh does not fit in the gate's (OCI's metadata
 * limit, with a TLS PEM), so the switch command installs it on the gate before it runs it
 * (bluegreen/commands.ts), and the lab installs it at `up` and at each `switch`.
 */
export const COMMAND_DELIVERED_SCRIPTS: readonly ScriptName[] = ["promote-master"];

/** Directory of the scripts and the placeholder app in this repository. */
export const SOURCE_DIR = __dirname;

/** One file a node needs, as `renderNodeFiles` returns it and `write_files` carries it. */
export interface NodeFile {
  /** Absolute path, already rooted at the node's root. */
  readonly path: string;
  /** Plain text content (decoded). */
  readonly content: string;
  /** Octal mode as cloud-init takes it, e.g. "0640". */
  readonly permissions: string;
  /** `user:group`. */
  readonly owner: string;
  /** Written after packages are installed (cloud-init's final stage). */
  readonly defer: boolean;
}

/** Marker line of the policy-rc.d that holds package services back until setup.sh runs. */
export const POLICY_RC_MARKER = "# yquant: hold package services until setup.sh";

function readSource(relative: string): string {
  return fs.readFileSync(path.join(SOURCE_DIR, relative), "utf8");
}

/**
 * A script as a node gets it: the repository's file without its whole-line comments (they are the
 * scripts' documentation, read in the repository), which keeps the gate's user data under OCI's
 * metadata limit with a TLS PEM. No script has a here-document, so no comment line is data. The
 * shebang stays, and a second line names the source. Trailing comments are kept.
 */
export function scriptForNode(name: string, text: string): string {
  const [shebang = "", ...rest] = text.split("\n");
  const body = rest.filter((line) => !/^\s*#/.test(line));
  return [shebang, `# yquant-infra cloud-init/scripts/${name}.sh (comment lines left out)`, ...body].join(
    "\n",
  );
}

/** A command-delivered script (COMMAND_DELIVERED_SCRIPTS) as it is installed on the node. */
export function deliveredScript(name: (typeof COMMAND_DELIVERED_SCRIPTS)[number]): string {
  return scriptForNode(name, readScript(name));
}

/**
 * The packaged Valkey units set `UMask=007`, so a file Valkey or Sentinel rewrites (CONFIG REWRITE,
 * Sentinel's own state) would come back 0660. This drop-in keeps the password-holding files at 0640;
 * the lab's service-control shim applies the same line.
 */
export const VALKEY_UMASK_DROP_IN =
  "# Rendered by yquant-infra: rewritten config files stay 0640.\n[Service]\nUMask=0027\n";

export function valkeyUmaskDropIn(
  unit: "valkey-server" | "valkey-sentinel" | typeof MESSAGE_REPLICA_UNIT,
): string {
  return `/etc/systemd/system/${unit}.service.d/yquant-umask.conf`;
}

/**
 * The packaged Sentinel unit runs with `NoExecPaths=/` (only its own binary and libraries may run)
 * and `ProtectSystem=strict`: Sentinel then refused its notification-script at start ("seems non
 * existing or non executable", found on the VMs), and the script could not write its metrics or log.
 */
export const SENTINEL_SCRIPTS_DROP_IN = [
  "# Rendered by yquant-infra: sentinel-event.sh (notification-script) runs, writes its metrics.",
  "[Service]",
  "ExecPaths=/opt/yquant/bin/sentinel-event.sh /usr/bin /bin",
  "ReadWritePaths=-/var/lib/yquant/metrics -/var/log/yquant",
  "",
].join("\n");
export const SENTINEL_SCRIPTS_DROP_IN_PATH =
  "/etc/systemd/system/valkey-sentinel.service.d/yquant-scripts.conf";

/** Every file `node` needs, in a fixed order. Pure apart from reading the repo's script files. */
export function renderNodeFiles(layout: Layout, node: NodeName): NodeFile[] {
  validateLayout(layout);
  const role = roleOf(layout.topology, node);
  const p = (abs: string): string => nodePath(layout, node, abs);
  const files: NodeFile[] = [];
  const add = (absPath: string, content: string, permissions: string, owner: string, defer = true): void => {
    files.push({ path: p(absPath), content, permissions, owner, defer });
  };

  add(
    "/usr/sbin/policy-rc.d",
    `#!/bin/sh\n${POLICY_RC_MARKER} (it removes this file)\nexit 101\n`,
    "0755",
    "root:root",
    false,
  );
  add("/etc/yquant/node.env", renderNodeEnv(layout, node), "0644", "root:root");
  add("/etc/yquant/valkey.env", renderValkeyEnv(layout, node), "0640", "root:yquant");
  add("/etc/yquant/valkey-admin.env", renderValkeyAdminEnv(layout, node), "0600", "root:root");
  add("/etc/yquant/firewall.rules", renderFirewallRules(layout, node), "0644", "root:root");
  for (const script of role.scripts) {
    // setup.sh is not deferred: the first boot's wait for package sources runs it before `packages`.
    add(
      `/opt/yquant/bin/${script}.sh`,
      scriptForNode(script, readScript(script)),
      "0755",
      "root:root",
      script !== "setup",
    );
  }
  for (const script of monitoringScripts(layout, node)) {
    // Without comment lines too: that room holds the gate's message replica under OCI's limit.
    add(`/opt/yquant/bin/${script}.sh`, scriptForNode(script, readScript(script)), "0755", "root:root");
  }
  for (const file of monitoringFiles(layout, node)) {
    files.push({ ...file, defer: true });
  }
  const valkey = valkeyPaths(layout, node);
  if (role.valkey !== "none") {
    add(valkeyUmaskDropIn("valkey-server"), VALKEY_UMASK_DROP_IN, "0644", "root:root");
    files.push({
      path: valkey.config,
      content: role.valkey === "token" ? renderTokenValkey(layout) : renderMessageValkey(layout, node),
      permissions: "0640",
      owner: "valkey:valkey",
      defer: true,
    });
  }
  if (role.messageReplica) {
    add(valkeyUmaskDropIn(MESSAGE_REPLICA_UNIT), VALKEY_UMASK_DROP_IN, "0644", "root:root");
    files.push({
      path: valkey.replicaConfig,
      content: renderMessageReplica(layout, node),
      permissions: "0640",
      owner: "valkey:valkey",
      defer: true,
    });
  }
  if (role.sentinel) {
    add(valkeyUmaskDropIn("valkey-sentinel"), VALKEY_UMASK_DROP_IN, "0644", "root:root");
    add(SENTINEL_SCRIPTS_DROP_IN_PATH, SENTINEL_SCRIPTS_DROP_IN, "0644", "root:root");
    files.push({
      path: valkey.sentinelConfig,
      content: renderSentinel(layout, node),
      permissions: "0640",
      owner: "valkey:valkey",
      defer: true,
    });
  }

  if (role.haproxy) {
    // The live color is not in haproxy.cfg: setup.sh has switch-active.sh write the first switch map
    // (live blue) when there is none, and the switch changes it (cloud-init/haproxy.ts).
    const hp = haproxyPaths(layout);
    files.push({
      path: hp.config,
      content: renderHaproxyConfig(layout),
      permissions: "0644",
      owner: "root:root",
      defer: true,
    });
    if (layout.secrets.tlsPem !== "") {
      const pem = layout.secrets.tlsPem.endsWith("\n") ? layout.secrets.tlsPem : `${layout.secrets.tlsPem}\n`;
      files.push({ path: hp.pem, content: pem, permissions: "0600", owner: "root:root", defer: true });
    }
  }
  if (role.app) {
    add("/opt/yquant/placeholder/app.py", readSource("placeholder/app.py"), "0755", "root:root");
    for (const service of layout.app.services) {
      add(
        `/etc/systemd/system/yquant-${service.name}.service`,
        renderAppUnit(layout, node, service.name),
        "0644",
        "root:root",
      );
    }
  }
  return files;
}

interface WriteFileEntry {
  path: string;
  content: string;
  permissions?: string;
  owner?: string;
  defer?: boolean;
}

function toWriteFile(file: NodeFile): WriteFileEntry {
  const entry: WriteFileEntry = { path: file.path, content: file.content };
  if (file.permissions !== WRITE_FILES_DEFAULTS.permissions) entry.permissions = file.permissions;
  if (file.owner !== WRITE_FILES_DEFAULTS.owner) entry.owner = file.owner;
  if (file.defer) entry.defer = true;
  return entry;
}

/** Where a failed first boot leaves its one line; health-check.sh reports it, setup.sh writes it. */
export const FIRST_BOOT_FAILED_FILE = "/var/lib/yquant/first-boot-failed";

/**
 * bootcmd: queues the first boot's wait for package sources (`setup.sh --wait-sources`, written
 * in the init stage) as a transient oneshot unit and returns at once. The unit is ordered
 * after network-online.target and before cloud-final.service (where `packages:` runs), so neither
 * cloud-init.service nor sysinit.target nor sshd waits for it. The gate reaches the internet
 * through its reserved public IP, which Pulumi binds a few seconds after the instance is running;
 * without a wait a fast boot could reach `packages` before that and install nothing.
 */
export function packageSourcesWait(layout: Layout, node: NodeName): string {
  return [
    "cloud-init-per instance yq-pkg-wait systemd-run --no-block -u yq-pkg-wait -p Type=oneshot",
    "-p After=network-online.target -p Before=cloud-final.service",
    // /bin/bash, not the script itself: systemd-run checks that its executable exists, and
    // write_files runs after bootcmd.
    `/bin/bash ${p(layout, node, "/opt/yquant/bin/setup.sh")} --wait-sources`,
  ].join(" ");
}

/** The exact `#cloud-config` text for one node. Pure: same input, byte-identical output. */
export function renderUserData(layout: Layout, node: NodeName): string {
  const config = {
    bootcmd: [packageSourcesWait(layout, node)],
    hostname: nodeSpec(layout.topology, node).hostname,
    package_update: true,
    package_upgrade: false,
    packages: [...roleOf(layout.topology, node).packages],
    users: [
      "default",
      {
        name: "yquant",
        system: true,
        shell: "/usr/sbin/nologin",
        homedir: "/var/lib/yquant",
        no_create_home: true,
        lock_passwd: true,
      },
    ],
    write_files: renderNodeFiles(layout, node).map(toWriteFile),
    runcmd: [[p(layout, node, "/opt/yquant/bin/setup.sh")]],
  };
  const text = `#cloud-config\n${yaml.dump(config, { sortKeys: true, lineWidth: -1, noRefs: true })}`;
  const encoded = encodeUserData(text).length;
  if (encoded > OCI_METADATA_LIMIT_BYTES) {
    throw new RenderError(
      `user data of ${node} is ${encoded} bytes gzipped and base64-encoded, over OCI's ${OCI_METADATA_LIMIT_BYTES}-byte metadata limit`,
    );
  }
  return text;
}

/**
 * What the instance's `user_data` metadata carries: the `#cloud-config` text gzip-compressed, then
 * base64. cloud-init decompresses gzip user data before anything else (`convert_string` in
 * cloudinit/user_data.py runs `util.decomp_gzip`; tests/render/monitoring.test.ts proves it with the
 * installed cloud-init), so the VM sees exactly `text`. Deterministic: Node's gzip writes no timestamp.
 */
export function encodeUserData(text: string): string {
  return zlib.gzipSync(Buffer.from(text, "utf8"), { level: 9 }).toString("base64");
}

/** The inverse of `encodeUserData` (for tests and tools that read an instance's metadata). */
export function decodeUserData(encoded: string): string {
  return zlib.gunzipSync(Buffer.from(encoded, "base64")).toString("utf8");
}

function p(layout: Layout, node: NodeName, abs: string): string {
  return nodePath(layout, node, abs);
}
