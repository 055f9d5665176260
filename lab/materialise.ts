/**
 * Writes a node's files exactly as cloud-init would: from the `write_files` entries of the node's own
 * rendered user data, read back by the one reader (cloud-init/write-files.ts). There is no second
 * render path nor a second parser: what the VM gets is what the lab runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { Layout, NodeName } from "../cloud-init/layout";
import { renderUserData } from "../cloud-init/user-data";
import { WriteFile, readWriteFiles } from "../cloud-init/write-files";

export type { WriteFile } from "../cloud-init/write-files";

function resolveOwner(owner: string): { uid: number; gid: number } | undefined {
  const [user, group] = owner.split(":");
  try {
    const uid = Number(execFileSync("id", ["-u", user ?? ""], { encoding: "utf8", stdio: "pipe" }).trim());
    const gid = group
      ? Number(execFileSync("getent", ["group", group], { encoding: "utf8", stdio: "pipe" }).split(":")[2])
      : Number(execFileSync("id", ["-g", user ?? ""], { encoding: "utf8", stdio: "pipe" }).trim());
    return Number.isFinite(uid) && Number.isFinite(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

export interface MaterialiseResult {
  readonly node: NodeName;
  readonly userData: string;
  readonly files: readonly WriteFile[];
  /** Owners that could not be applied (not root, or the user does not exist on this machine). */
  readonly ownersSkipped: number;
}

/**
 * Writes `files` (content and mode; the owner only when running as root and the user exists here).
 * Every path must lie under `root`: an entry outside it is refused before anything is written, so
 * the lab never writes outside its directory. Returns how many owners were not applied.
 */
export function writeEntries(root: string, files: readonly WriteFile[]): number {
  const base = path.resolve(root);
  for (const file of files) {
    const target = path.resolve(file.path);
    if (!target.startsWith(base + path.sep)) {
      throw new Error(`write_files entry ${file.path} is outside the node root ${base}`);
    }
  }
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  let ownersSkipped = 0;
  for (const file of files) {
    const target = path.resolve(file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (file.append) fs.appendFileSync(target, file.content);
    else {
      // Replace, not truncate in place: a running program keeps the old inode it has open.
      const tmp = `${target}.lab-tmp`;
      fs.writeFileSync(tmp, file.content, { mode: file.mode });
      fs.renameSync(tmp, target);
    }
    fs.chmodSync(target, file.mode);
    if (file.owner) {
      const ids = asRoot ? resolveOwner(file.owner) : undefined;
      if (ids) fs.chownSync(target, ids.uid, ids.gid);
      else ownersSkipped += 1;
    }
  }
  return ownersSkipped;
}

/** Renders `node`'s user data and writes every `write_files` entry under the node's root. */
export function materialiseNode(layout: Layout, node: NodeName): MaterialiseResult {
  const userData = renderUserData(layout, node);
  const files = readWriteFiles(userData);
  const ownersSkipped = writeEntries(layout.roots[node], files);
  return { node, userData, files, ownersSkipped };
}
