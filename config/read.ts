/**
 * The value readers of `parseConfig`: each reads one key as the schema (config/schema.ts) declares
 * it and throws a ConfigError naming the key and what is allowed. Scalars are parsed from the whole
 * string the CLI passes: "0x10", "30s", "2abc" or " 2" are not integers, "yes" is not a boolean.
 */
import { NAMESPACE } from "../rules";
import { CONFIG_SCHEMA, ConfigKey, keySpec } from "./schema";

/** A value read from a secret config key. Prints as `[secret]`; `reveal()` gives the value. */
export class SecretString {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[secret]";
  }
  toJSON(): string {
    return "[secret]";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "[secret]";
  }
}

/** Refused configuration: the message names the field as `yquant:<key>` and the allowed values. */
export class ConfigError extends Error {
  readonly key: string;
  constructor(key: string, problem: string, allowed: string) {
    super(`${NAMESPACE}:${key}: ${problem}. Allowed: ${allowed}.`);
    this.name = "ConfigError";
    this.key = key;
  }
}

/** Raw values keyed without the namespace. Values are checked, so their type is unknown. */
export type RawConfig = Readonly<Record<string, unknown>>;

/** The schema default of `key` (a required key has none). */
function fallbackOf(key: ConfigKey): string | number | boolean | undefined {
  return (CONFIG_SCHEMA[key] as { default?: string | number | boolean }).default;
}

export function present(raw: RawConfig, key: string): unknown {
  const value = raw[key];
  return value === undefined || value === null ? undefined : value;
}

function checkLength(key: ConfigKey, value: string, allowed: string): string {
  const max = keySpec(key).maxLength;
  if (max !== undefined && value.length > max) {
    throw new ConfigError(key, `the value has ${value.length} characters, more than ${max}`, allowed);
  }
  return value;
}

/** A string key; `allowed` describes a good value. Empty counts as unset for a required key. */
export function readString(raw: RawConfig, key: ConfigKey, allowed = "a string"): string {
  const value = present(raw, key);
  const fallback = fallbackOf(key);
  if (value === undefined || (value === "" && fallback === undefined)) {
    if (fallback === undefined) throw new ConfigError(key, "a value is required but none is set", allowed);
    return String(fallback);
  }
  if (typeof value !== "string") {
    throw new ConfigError(key, `must be a string (got ${typeof value})`, allowed);
  }
  return checkLength(key, value, allowed);
}

export function readBoolean(raw: RawConfig, key: ConfigKey): boolean {
  const value = present(raw, key);
  if (value === undefined) return fallbackOf(key) === true;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new ConfigError(key, `${JSON.stringify(value)} is not a boolean`, "true or false");
}

/** An integer: a number, or a string of decimal digits with an optional minus and no leading zero. */
export function readInteger(
  raw: RawConfig,
  key: ConfigKey,
  range: readonly [number, number] | undefined = keySpec(key).range,
  context = "",
): number {
  const [min, max] = range ?? [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  const allowed = `an integer from ${min} to ${max}`;
  const value = present(raw, key);
  const number =
    value === undefined
      ? fallbackOf(key)
      : typeof value === "string"
        ? /^(0|-?[1-9][0-9]{0,15})$/.test(value)
          ? Number(value)
          : undefined
        : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number)) {
    throw new ConfigError(key, `${JSON.stringify(value)} is not an integer`, allowed);
  }
  if (number < min || number > max) {
    throw new ConfigError(key, `${number} is out of range${context}`, allowed);
  }
  return number;
}

/** A secret key's value (a string or a SecretString); undefined when unset. */
export function readSecret(raw: RawConfig, key: ConfigKey, allowed: string): string | undefined {
  const value = present(raw, key);
  if (value === undefined) return undefined;
  const text = value instanceof SecretString ? value.reveal() : value;
  if (typeof text !== "string") {
    throw new ConfigError(key, `must be a string (got ${typeof text})`, "a string set with --secret");
  }
  return checkLength(key, text, allowed);
}

export const MIN_PASSWORD_LENGTH = 16;
export const PASSWORD_PATTERN = /^[A-Za-z0-9._~+=@%:,-]+$/;

/** A Valkey or Sentinel password; undefined (generated) when unset or empty. */
export function readPassword(
  raw: RawConfig,
  key: "valkeyPassword" | "sentinelPassword",
): SecretString | undefined {
  const max = keySpec(key).maxLength ?? 0;
  const allowed = `${MIN_PASSWORD_LENGTH} to ${max} characters from A-Z a-z 0-9 . _ ~ + = @ % : , - (or unset to generate one)`;
  const value = readSecret(raw, key, allowed);
  if (value === undefined || value === "") return undefined;
  if (value.length < MIN_PASSWORD_LENGTH) {
    throw new ConfigError(key, `the value has ${value.length} characters`, allowed);
  }
  if (!PASSWORD_PATTERN.test(value)) {
    throw new ConfigError(key, "the value has characters outside the allowed set", allowed);
  }
  return new SecretString(value);
}

export function checkPattern(key: ConfigKey, value: string, pattern: RegExp, allowed: string): string {
  if (!pattern.test(value)) throw new ConfigError(key, `${JSON.stringify(value)} is not valid`, allowed);
  return value;
}

export function quoteList(values: readonly string[]): string {
  const quoted = values.map((value) => JSON.stringify(value));
  return quoted.length <= 1 ? (quoted[0] ?? "") : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}
