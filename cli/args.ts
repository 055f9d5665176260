/**
 * The one argument parser of the repo's CLIs (`npm run bg`, `npm run lab`, `npm run render`): Node's
 * `util.parseArgs` (strict), with every refusal as one line that names the allowed values, so each CLI
 * can print it and exit 2. `-h`/`--help` is accepted everywhere and reported as `help`.
 */
import { parseArgs } from "node:util";

/** A bad command line: the CLI prints the message on one line, exits 2 and changes nothing. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface FlagSpec {
  /** `string` takes a value; `boolean` takes none. */
  readonly type: "string" | "boolean";
  /** The value's name in messages and usage, e.g. `PATH` (string flags only). */
  readonly value?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export interface CommandLine {
  /** Each flag given: a string for a string flag, `true` for a boolean one. */
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  /** `-h` or `--help` was given. */
  readonly help: boolean;
}

/** The flags as messages list them: `--file PATH, --no-git, -h/--help`. */
export function describeFlags(flags: FlagSpecs): string {
  const names = Object.entries(flags).map(([name, spec]) =>
    spec.type === "string" ? `--${name} ${spec.value ?? "VALUE"}` : `--${name}`,
  );
  return [...names, "-h/--help"].join(", ");
}

function flagOf(message: string): string {
  return /'(-[^' ]*)/.exec(message)?.[1] ?? "";
}

/**
 * Parses `argv` against `flags`. `where` prefixes every message (e.g. `"switch: "`). A string flag's
 * value may not start with `-` (so `--out -rf` is refused rather than read as a path).
 */
export function parseCommandLine(argv: readonly string[], flags: FlagSpecs, where = ""): CommandLine {
  const allowed = describeFlags(flags);
  const needsValue = (name: string): UsageError =>
    new UsageError(`${where}--${name} needs a value: ${flags[name]?.value ?? "VALUE"}`);
  const dashValue = (name: string, value: string): UsageError =>
    new UsageError(`${where}invalid --${name} "${value}": values may not start with "-"`);
  const end = argv.indexOf("--");
  for (let i = 0; i < (end === -1 ? argv.length : end); i += 1) {
    const name = /^--([^=]+)$/.exec(argv[i] as string)?.[1];
    const next = argv[i + 1];
    if (name !== undefined && flags[name]?.type === "string" && next !== undefined && next.startsWith("-")) {
      throw next === "--" ? needsValue(name) : dashValue(name, next);
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...flags, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const flag = flagOf(message);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new UsageError(`${where}unknown option "${flag}": allowed ${allowed}`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const name = flag.replace(/^--/, "");
      if (/argument missing/.test(message)) throw needsValue(name);
      throw new UsageError(`${where}${flag} takes no value: allowed ${allowed}`);
    }
    throw new UsageError(`${where}${message.split("\n")[0] ?? message}`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === "string" && value.startsWith("-")) throw dashValue(name, value);
    if (value === "") throw needsValue(name);
  }
  const { help, ...rest } = values;
  return { values: rest, positionals: parsed.positionals, help: help === true };
}

/** `<adjective> <what> "<value>": expected one of a, b, c` when `value` is not in `allowed`. */
export function oneOf<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  what: string,
  where = "",
  adjective = "invalid",
): T {
  if (value === undefined)
    throw new UsageError(`${where}missing ${what}: expected one of ${allowed.join(", ")}`);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${where}${adjective} ${what} "${value}": expected one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** Refuses positionals beyond the `count` a command takes. */
export function noMore(positionals: readonly string[], count: number, where: string): void {
  const extra = positionals[count];
  if (extra !== undefined) throw new UsageError(`${where}unexpected argument "${extra}"`);
}
