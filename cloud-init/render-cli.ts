/**
 * `npm run render -- --out <dir> [--layout <layout.json>]`
 *
 * Writes, for each of gate, blue and green: <dir>/<node>/user-data.yaml (the exact cloud-config)
 * and every write_files entry under <dir>/<node>/files/<its absolute path> (the gate's haproxy.cfg
 * among them).
 * Without --layout it renders the cloud-style sample Layout (cloud-init/sample-layout.ts). Files are
 * materialised from the parsed user data, never from a second path. Bad arguments: exit 2.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Layout, NODE_NAMES } from "./layout";
import { renderUserData } from "./user-data";
import { parseWriteFiles } from "./write-files";
import { sampleLayout } from "./sample-layout";

const USAGE = "usage: npm run render -- --out <dir> [--layout <layout.json>]";

export class UsageError extends Error {}

export interface CliOptions {
  readonly out: string;
  readonly layoutFile?: string;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  let out: string | undefined;
  let layoutFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new UsageError(`${arg} needs a value`);
      i++;
      return next;
    };
    if (arg === "--out") out = value();
    else if (arg === "--layout") layoutFile = value();
    else throw new UsageError(`unknown argument "${arg}"`);
  }
  if (out === undefined || out === "") throw new UsageError("--out <dir> is required");
  return layoutFile === undefined ? { out } : { out, layoutFile };
}

function loadLayout(file: string | undefined): Layout {
  if (file === undefined) return sampleLayout();
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new UsageError(`cannot read --layout file "${file}"`);
  }
  try {
    return sampleLayout(JSON.parse(text) as Partial<Layout>);
  } catch {
    throw new UsageError(`--layout file "${file}" is not valid JSON`);
  }
}

/** Renders everything under `out`; returns the files written, relative to `out`. */
export function renderTo(out: string, layout: Layout): string[] {
  const written: string[] = [];
  const write = (relative: string, content: string, mode: number): void => {
    const target = path.join(out, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content, { mode });
    fs.chmodSync(target, mode);
    written.push(relative);
  };
  for (const node of NODE_NAMES) {
    const userData = renderUserData(layout, node);
    write(path.join(node, "user-data.yaml"), userData, 0o600);
    for (const file of parseWriteFiles(userData)) {
      write(path.join(node, "files", file.path), file.content, parseInt(file.permissions, 8));
    }
  }
  return written;
}

export function main(argv: readonly string[]): number {
  try {
    const options = parseArgs(argv);
    const written = renderTo(path.resolve(options.out), loadLayout(options.layoutFile));
    console.log(`render: wrote ${written.length} files under ${path.resolve(options.out)}`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`render: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
