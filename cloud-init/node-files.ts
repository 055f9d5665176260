/**
 * Every file a node needs, in a fixed order: configs, scripts, units and drop-ins, read from the role
 * table and rendered by the pure renderers. cloud-init/user-data.ts carries them in `write_files`;
 * the convergence (cloud-init/converge.ts) and the lab write the same records.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Layout, NodeName, nodePath, roleOf } from "./layout";
import type { ScriptName } from "./topology";
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
  renderAppUnit,
  renderFirewallRules,
  renderNodeEnv,
  renderValkeyAdminEnv,
  renderValkeyEnv,
  validateLayout,
} from "./node-config";

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
  // The Valkey and HAProxy renderers' paths are already rooted at the node's root.
  const addRooted = (rootedPath: string, content: string, permissions: string, owner: string): void => {
    files.push({ path: rootedPath, content, permissions, owner, defer: true });
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
    const config = role.valkey === "token" ? renderTokenValkey(layout) : renderMessageValkey(layout, node);
    addRooted(valkey.config, config, "0640", "valkey:valkey");
  }
  if (role.messageReplica) {
    add(valkeyUmaskDropIn(MESSAGE_REPLICA_UNIT), VALKEY_UMASK_DROP_IN, "0644", "root:root");
    addRooted(valkey.replicaConfig, renderMessageReplica(layout, node), "0640", "valkey:valkey");
  }
  if (role.sentinel) {
    add(valkeyUmaskDropIn("valkey-sentinel"), VALKEY_UMASK_DROP_IN, "0644", "root:root");
    add(SENTINEL_SCRIPTS_DROP_IN_PATH, SENTINEL_SCRIPTS_DROP_IN, "0644", "root:root");
    addRooted(valkey.sentinelConfig, renderSentinel(layout, node), "0640", "valkey:valkey");
  }

  if (role.haproxy) {
    // The live color is not in haproxy.cfg: setup.sh has switch-active.sh write the first switch map
    // (live blue) when there is none, and the switch changes it (cloud-init/haproxy.ts).
    const hp = haproxyPaths(layout);
    addRooted(hp.config, renderHaproxyConfig(layout), "0644", "root:root");
    if (layout.secrets.tlsPem !== "") {
      const pem = layout.secrets.tlsPem.endsWith("\n") ? layout.secrets.tlsPem : `${layout.secrets.tlsPem}\n`;
      addRooted(hp.pem, pem, "0600", "root:root");
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
