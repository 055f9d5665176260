/**
 * Writes a node's files exactly as cloud-init would: from the `write_files` entries of the node's own
 * rendered user data, parsed back from its YAML. There is no second render path: what the VM gets is
 * what the lab runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { execFileSync } from "node:child_process";
import * as yaml from "js-yaml";
import { Layout, NodeName } from "../cloud-init/layout";
import { renderUserData } from "../cloud-init/user-data";

/** One `write_files` entry as cloud-init reads it. */
export interface WriteFile {
  readonly path: string;
  /** Decoded content, as bytes. */
  readonly content: Buffer;
  /** Octal mode, e.g. 0o644. cloud-init's default is 0644. */
  readonly mode: number;
  readonly owner: string | undefined;
  readonly append: boolean;
}

function decode(content: unknown, encoding: unknown): Buffer {
  const text = content === undefined || content === null ? "" : String(content);
  const enc = typeof encoding === "string" ? encoding.toLowerCase() : "text/plain";
  switch (enc) {
    case "b64":
    case "base64":
      return Buffer.from(text, "base64");
    case "gz":
    case "gzip":
      return zlib.gunzipSync(Buffer.from(text, "binary"));
    case "gz+b64":
    case "gz+base64":
    case "gzip+b64":
    case "gzip+base64":
      return zlib.gunzipSync(Buffer.from(text, "base64"));
    case "text/plain":
      return Buffer.from(text, "utf8");
    default:
      throw new Error(`write_files: unknown encoding ${JSON.stringify(encoding)}`);
  }
}

function parseMode(permissions: unknown): number {
  if (permissions === undefined || permissions === null) return 0o644;
  if (typeof permissions === "number") {
    // An unquoted 0644 reads as the number 644: its digits are the octal mode.
    const digits = permissions.toString();
    if (!/^[0-7]{3,4}$/.test(digits)) throw new Error(`write_files: bad permissions ${permissions}`);
    return parseInt(digits, 8);
  }
  const text = String(permissions).trim();
  if (!/^0?o?[0-7]{3,4}$/.test(text))
    throw new Error(`write_files: bad permissions ${JSON.stringify(permissions)}`);
  return parseInt(text.replace(/^0?o?/, ""), 8);
}

/** The parsed `write_files` of a `#cloud-config` text. */
export function parseWriteFiles(userData: string): WriteFile[] {
  if (!userData.startsWith("#cloud-config")) throw new Error("user data does not start with #cloud-config");
  const doc = yaml.load(userData) as { write_files?: unknown } | null;
  const entries = doc?.write_files;
  if (!Array.isArray(entries)) throw new Error("user data has no write_files list");
  return entries.map((raw: unknown, index: number) => {
    const entry = raw as Record<string, unknown>;
    if (typeof entry.path !== "string" || !entry.path.startsWith("/")) {
      throw new Error(`write_files[${index}]: path must be absolute, got ${JSON.stringify(entry.path)}`);
    }
    return {
      path: entry.path,
      content: decode(entry.content, entry.encoding),
      mode: parseMode(entry.permissions),
      owner: typeof entry.owner === "string" ? entry.owner : undefined,
      append: entry.append === true,
    };
  });
}

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
  const files = parseWriteFiles(userData);
  const ownersSkipped = writeEntries(layout.roots[node], files);
  return { node, userData, files, ownersSkipped };
}
