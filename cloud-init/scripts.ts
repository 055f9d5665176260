/**
 * The operations scripts as a node gets them. Each script in `cloud-init/scripts/` may source a part
 * from `cloud-init/scripts/lib/` with the one line form
 *
 *     # shellcheck source=cloud-init/scripts/lib/<part>.sh
 *     source "${BASH_SOURCE[0]%/*}/lib/<part>.sh"
 *
 * and `readScript` puts the part's code (`partBody`) in place of those lines, so every installed
 * script stands alone: the user data, the switch command and the converge command each install one file, and
 * `BASH_SOURCE[0]` in a part is the installed script. A part may source another part. Pure apart
 * from reading the repository's files.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** This repository's scripts. */
export const SCRIPTS_DIR = path.join(__dirname, "scripts");

const SOURCE_LINE = /^source "\$\{BASH_SOURCE\[0\]%\/\*\}\/lib\/([a-z][a-z0-9-]*)\.sh"$/;
const DIRECTIVE_LINE = /^# shellcheck source=cloud-init\/scripts\/lib\/[a-z][a-z0-9-]*\.sh$/;

/** The parts under `lib/` that `text` sources, in order (each once, nested ones included). */
export function sourcedParts(text: string, seen: readonly string[] = []): string[] {
  const parts: string[] = [];
  for (const line of text.split("\n")) {
    const part = SOURCE_LINE.exec(line)?.[1];
    if (part === undefined || seen.includes(part) || parts.includes(part)) continue;
    parts.push(part, ...sourcedParts(readPart(part), [...seen, ...parts, part]));
  }
  return parts;
}

function readPart(part: string): string {
  return fs.readFileSync(path.join(SCRIPTS_DIR, "lib", `${part}.sh`), "utf8");
}

/**
 * A part as it is put in place: without its whole-line comments (its documentation, read in the
 * repository; the user data has to stay under OCI's metadata limit) but its shellcheck directives.
 */
export function partBody(text: string): string {
  return text
    .replace(/\n$/, "")
    .split("\n")
    .filter((line) => !/^\s*#/.test(line) || /^\s*# shellcheck /.test(line))
    .join("\n");
}

function inline(text: string, stack: readonly string[]): string {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const part = SOURCE_LINE.exec(line)?.[1];
    if (part === undefined) {
      out.push(line);
      continue;
    }
    if (stack.includes(part)) {
      throw new Error(`readScript: lib/${part}.sh sources itself (${[...stack, part].join(" -> ")})`);
    }
    if (out.length > 0 && DIRECTIVE_LINE.test(out[out.length - 1] ?? "")) out.pop();
    out.push(inline(partBody(readPart(part)), [...stack, part]));
  }
  return out.join("\n");
}

/** `cloud-init/scripts/<name>.sh` with every part it sources from `lib/` put in place. */
export function readScript(name: string): string {
  return inline(fs.readFileSync(path.join(SCRIPTS_DIR, `${name}.sh`), "utf8"), []);
}
