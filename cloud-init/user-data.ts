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
 * The files themselves come from cloud-init/node-files.ts.
 */
import * as zlib from "node:zlib";
import * as yaml from "js-yaml";
import { Layout, NodeName, nodePath, nodeSpec, roleOf } from "./layout";
import { WRITE_FILES_DEFAULTS } from "./write-files";
import { NodeFile, renderNodeFiles } from "./node-files";
import { RenderError } from "./node-config";

export { renderHaproxyConfig } from "./haproxy";
export { RenderError, validateLayout } from "./node-config";

/** OCI's documented limit on an instance's metadata (user_data base64 + ssh_authorized_keys). */
export const OCI_METADATA_LIMIT_BYTES = 32_000;

export { SCRIPT_NAMES } from "./topology";

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
