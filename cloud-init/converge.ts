/**
 * Configuration convergence: the files `renderNodeFiles` produces for a node (the very ones its
 * cloud-init wrote at first boot), as a bundle that `converge.sh` on the running node reads from
 * stdin. converge.sh writes what differs in place and reloads only what changed, each file by its
 * action below; a node whose files are all in force runs nothing. Pure: the bundle text is
 * byte-identical for the same input, and `convergeDigest` changes exactly when the bundle does.
 *
 * Bundle format (line based, so bash reads it without a parser):
 *   yquant-converge 1
 *   file <action> <mode> <owner> <path>
 *   <the content, base64 on one line>
 *   ...
 *   end
 */
import * as crypto from "node:crypto";
import { Layout, NodeName, nodePath, roleOf } from "./layout";
import { haproxyPaths } from "./haproxy";
import { monitoringPaths } from "./monitoring";
import { valkeyPaths } from "./valkey";
import { NodeFile, renderNodeFiles } from "./node-files";
import { readScript } from "./scripts";

/**
 * What converge.sh does with a file that differs:
 * - `write`: write it in place (atomic rename, mode and owner);
 * - `haproxy`: haproxy.cfg (checked with `haproxy -c` before it is written) or the PEM: write it and
 *   reload HAProxy hitlessly (under the switch's lock). The live color is not in it: it is in the
 *   switch map, which is runtime state and not in the bundle;
 * - `valkey` / `replica` / `sentinel`: apply the changed settings to the running process (CONFIG
 *   SET, then CONFIG REWRITE; SENTINEL SET), never a restart, so the master and the data stay; a
 *   setting that cannot change at runtime (or a password, see docs/security.md) is refused with its
 *   name. `replica` is the message store's never-promoted replica (MESSAGE_REPLICA_PORT); like the
 *   node's own Valkey, its `replicaof` belongs to Sentinel after the first boot;
 * - `firewall`: add the new host firewall rules, then delete the yquant rules no longer listed;
 * - `unit`: write it and `daemon-reload` (the app takes it at its next deploy or restart);
 * - `ssh-keys`: the `ubuntu` user's authorized_keys (sshPublicKey), written atomically;
 * - `prometheus` (prometheus.yml, the alert rules) / `alertmanager` (alertmanager.yml): checked
 *   with `promtool check config --syntax-only` / `check rules` / `amtool check-config` before
 *   anything is written, then that service alone reloads (SIGHUP). Their /etc/default files
 *   (`write`) take effect at the service's next restart.
 */
export type ConvergeAction =
  | "write"
  | "haproxy"
  | "valkey"
  | "replica"
  | "sentinel"
  | "firewall"
  | "unit"
  | "ssh-keys"
  | "prometheus"
  | "alertmanager";

export interface ConvergeEntry extends Omit<NodeFile, "defer"> {
  readonly action: ConvergeAction;
}

/** The authorized_keys of the image's `ubuntu` user (where cloud-init puts `ssh_authorized_keys`). */
export const AUTHORIZED_KEYS_PATH = "/home/ubuntu/.ssh/authorized_keys";

/** `@`: the message replica's drop-in lives under `valkey-server@replica.service.d`. */
const SAFE_PATH = /^\/[A-Za-z0-9._/@-]+$/;

/**
 * The converge entries of `node`: every rendered file but the first-boot-only ones (the policy-rc.d
 * that holds package services back during the install), plus the `ubuntu` user's authorized_keys when `sshAuthorizedKeys` is given.
 */
export function convergeEntries(layout: Layout, node: NodeName, sshAuthorizedKeys?: string): ConvergeEntry[] {
  const p = (abs: string): string => nodePath(layout, node, abs);
  const hp = roleOf(layout.topology, node).haproxy ? haproxyPaths(layout) : undefined;
  const vp = valkeyPaths(layout, node);
  const mp = monitoringPaths(layout, node);
  const skip = new Set([p("/usr/sbin/policy-rc.d")]);
  const haproxy = new Set(hp ? [hp.config, hp.pem] : []);
  const action = (file: string): ConvergeAction => {
    if (haproxy.has(file)) return "haproxy";
    if (file === vp.config) return "valkey";
    if (file === vp.sentinelConfig) return "sentinel";
    if (file === vp.replicaConfig) return "replica";
    if (file === p("/etc/yquant/firewall.rules")) return "firewall";
    if (file === mp.prometheusConfig || file === mp.rules) return "prometheus";
    if (file === mp.alertmanagerConfig) return "alertmanager";
    if (file.startsWith(p("/etc/systemd/system/"))) return "unit";
    return "write";
  };
  const entries: ConvergeEntry[] = renderNodeFiles(layout, node)
    .filter((f) => !skip.has(f.path))
    .map(({ path, content, permissions, owner }) => ({
      path,
      content,
      permissions,
      owner,
      action: action(path),
    }));
  if (sshAuthorizedKeys !== undefined) {
    const keys = sshAuthorizedKeys.trim();
    if (keys === "" || /[\r]/.test(keys)) {
      throw new Error("convergeEntries: sshAuthorizedKeys must be one or more OpenSSH public key lines");
    }
    entries.push({
      path: p(AUTHORIZED_KEYS_PATH),
      content: `${keys}\n`,
      permissions: "0600",
      owner: "ubuntu:ubuntu",
      action: "ssh-keys",
    });
  }
  for (const e of entries) {
    if (!SAFE_PATH.test(e.path) || e.path.includes("..")) {
      throw new Error(`convergeEntries: unsafe path ${JSON.stringify(e.path)}`);
    }
    if (!/^0[0-7]{3}$/.test(e.permissions) || !/^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/.test(e.owner)) {
      throw new Error(`convergeEntries: bad mode or owner for ${e.path}`);
    }
  }
  return entries;
}

/** The bundle text converge.sh reads on stdin. */
export function renderConvergeBundle(entries: readonly ConvergeEntry[]): string {
  const lines = ["yquant-converge 1"];
  for (const e of entries) {
    lines.push(`file ${e.action} ${e.permissions} ${e.owner} ${e.path}`);
    lines.push(Buffer.from(e.content, "utf8").toString("base64"));
  }
  lines.push("end");
  return lines.join("\n") + "\n";
}

/** sha256 of the bundle: the converge command's trigger (kept secret, the bundle holds passwords). */
export function convergeDigest(bundle: string): string {
  return crypto.createHash("sha256").update(bundle, "utf8").digest("hex");
}

/**
 * converge.sh as the converge command installs it: `cloud-init/scripts/converge.sh` with the parts it
 * sources from `cloud-init/scripts/lib/` in place (comments kept: the node has the whole script).
 */
export function convergeScript(): string {
  return readScript("converge");
}
