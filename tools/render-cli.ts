/**
 * `npm run render -- --out <dir> [--layout <layout.json>]`
 *
 * Writes, for each of gate, blue and green: <dir>/<node>/user-data.yaml (the exact cloud-config)
 * and every write_files entry under <dir>/<node>/files/<its absolute path> (the gate's haproxy.cfg
 * among them).
 * Without --layout it renders the cloud-style sample Layout (tools/sample-layout.ts). Files are
 * materialised from the parsed user data, never from a second path. Bad arguments or a bad path: one
 * line, exit 2. `--help`, `-h` or `help`: the usage on stdout, exit 0.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { UsageError, noMore, parseCommandLine } from "../cli/args";
import { Layout, NODE_NAMES } from "../cloud-init/layout";
import { renderUserData } from "../cloud-init/user-data";
import { parseWriteFiles } from "../cloud-init/write-files";
import { sampleLayout } from "./sample-layout";

export const USAGE = `usage: npm run render -- --out <dir> [--layout <layout.json>]
  writes <dir>/<node>/user-data.yaml and each of its files under <dir>/<node>/files/ for every node;
  <dir> is created if missing and must not be a file. Without --layout: the cloud-style sample layout.
  -h, --help, help: this text`;

export { UsageError };

export interface CliOptions {
  readonly out: string;
  readonly layoutFile?: string;
}

/** `help` when the usage is asked for. */
export function parseArgs(argv: readonly string[]): CliOptions | "help" {
  const line = parseCommandLine(argv, {
    out: { type: "string", value: "DIR" },
    layout: { type: "string", value: "FILE" },
  });
  if (line.help || line.positionals[0] === "help") {
    noMore(line.positionals, line.positionals[0] === "help" ? 1 : 0, "help: ");
    return "help";
  }
  noMore(line.positionals, 0, "");
  const out = line.values.out as string | undefined;
  const layoutFile = line.values.layout as string | undefined;
  if (out === undefined) throw new UsageError("--out DIR is required");
  return layoutFile === undefined ? { out } : { out, layoutFile };
}

/** Why `out` cannot receive the rendered files, or undefined (it is a directory, or does not exist). */
function outProblem(out: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(out);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ENOTDIR") return "a parent of it is a file, not a directory";
    return `cannot be read (${code ?? "error"})`;
  }
  return stat.isDirectory() ? undefined : "exists and is not a directory";
}

function loadLayout(file: string | undefined): Layout {
  if (file === undefined) return sampleLayout();
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "EISDIR" ? "it is a directory" : code === "ENOENT" ? "no such file" : code;
    throw new UsageError(`cannot read --layout file "${file}": ${why ?? "error"}`);
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
    if (options === "help") {
      console.log(USAGE);
      return 0;
    }
    const problem = outProblem(options.out);
    if (problem) throw new UsageError(`--out "${options.out}": ${problem}`);
    const layout = loadLayout(options.layoutFile);
    const written = renderTo(path.resolve(options.out), layout);
    console.log(`render: wrote ${written.length} files under ${path.resolve(options.out)}`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`render: ${error.message}`);
      return 2;
    }
    if (typeof (error as NodeJS.ErrnoException).code === "string") {
      // Cannot write under --out (permissions, a full disk): one line, not a stack trace.
      console.error(`render: ${(error as Error).message}`);
      return 1;
    }
    throw error;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
