/**
 * The one reader of `write_files`: a rendered user data read back as cloud-init reads it (every
 * encoding it accepts, modes as it parses them, quoted or not, its defaults for a left-out field).
 * The lab writes its files from `readWriteFiles`; the render command and the tests compare
 * `parseWriteFiles`, the same entries as the renderer's own NodeFile records.
 */
import * as zlib from "node:zlib";
import * as yaml from "js-yaml";
import type { NodeFile } from "./node-files";

/** cloud-init's own defaults of a `write_files` entry, left out of the size-limited user data. */
export const WRITE_FILES_DEFAULTS = { permissions: "0644", owner: "root:root", defer: false } as const;

/** One `write_files` entry as cloud-init reads it. */
export interface WriteFile {
  readonly path: string;
  /** Decoded content, as bytes. */
  readonly content: Buffer;
  /** The mode, e.g. 0o644 (cloud-init's default when left out). */
  readonly mode: number;
  /** `user:group`, or undefined when left out (cloud-init then writes root:root). */
  readonly owner: string | undefined;
  readonly append: boolean;
  readonly defer: boolean;
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
  if (permissions === undefined || permissions === null) return parseInt(WRITE_FILES_DEFAULTS.permissions, 8);
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

/** The `write_files` of a `#cloud-config` text, as cloud-init reads them. */
export function readWriteFiles(userData: string): WriteFile[] {
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
      defer: entry.defer === true,
    };
  });
}

/** The same entries as NodeFile records (text content, the mode as "0640", cloud-init's defaults filled in). */
export function parseWriteFiles(userData: string): NodeFile[] {
  return readWriteFiles(userData).map((file) => ({
    path: file.path,
    content: file.content.toString("utf8"),
    permissions: `0${file.mode.toString(8).padStart(3, "0")}`,
    owner: file.owner ?? WRITE_FILES_DEFAULTS.owner,
    defer: file.defer,
  }));
}
