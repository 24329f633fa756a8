import type { ParseArgsOptionsConfig } from "node:util";

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A command line as parseArgs left it: flags by name, and the rest. */
export interface ParsedArgs {
  values: OptionValues;
  positionals: string[];
}

/** Where a running command says things. */
export interface CommandIo {
  /** Progress and warnings (stderr); silent under --quiet and --json. */
  log: (line: string) => void;
  quiet: boolean;
}

/** A command's outcome: one human line, and the same facts for machines (`--json`). */
export interface CommandResult {
  summary: string;
  json: unknown;
  /** Non-zero when the command ran but its verdict is "no" (a refused publish, a failed gate). */
  exitCode?: number;
}

interface CommandMeta {
  name: string;
  summary: string;
  /** Usage lines after `promo <name>`, and a description of each option. */
  usage: string;
  options: ParseArgsOptionsConfig;
}

/**
 * A command in two halves: `parse` checks every flag and does no I/O, so that a mistake such as
 * `--lr x` fails in milliseconds; `run` gets only what `parse` made, never the raw flags.
 */
export interface CommandSpec<Options> extends CommandMeta {
  parse(args: ParsedArgs): Options;
  run(options: Options, io: CommandIo): Promise<CommandResult>;
}

/** A command with its options type erased, as the command list holds it. */
export interface Command extends CommandMeta {
  /** Parses (throwing on a bad flag) and returns the run, ready to start. */
  prepare(args: ParsedArgs): (io: CommandIo) => Promise<CommandResult>;
}

export function defineCommand<Options>(spec: CommandSpec<Options>): Command {
  const { parse, run, ...meta } = spec;
  return {
    ...meta,
    prepare(args) {
      const options = parse(args);
      return (io) => run(options, io);
    },
  };
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const COMMON_OPTIONS = {
  json: { type: "boolean", default: false },
  quiet: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsOptionsConfig;

export const COMMON_USAGE = `  --json          print one JSON object instead of the summary line (implies --quiet)
  --quiet         no progress output
  -h, --help      this help`;

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined || typeof value === "string") return value;
  throw new UsageError(`--${name} takes a value`);
}

/** Every value of an option that may be repeated (`multiple: true`), in the order given. */
export function stringsOption(values: OptionValues, name: string): string[] {
  const value = values[name];
  if (value === undefined) return [];
  const all = Array.isArray(value) ? value : [value];
  return all.map((v) => {
    if (typeof v !== "string") throw new UsageError(`--${name} takes a value`);
    return v;
  });
}

export function requiredString(values: OptionValues, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

export function numberOption(
  values: OptionValues,
  name: string,
  fallback: number,
  check?: (n: number) => boolean,
): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || (check && !check(n)))
    throw new UsageError(`--${name} must be a valid number, got "${raw}"`);
  return n;
}

export function choiceOption<T extends string>(
  values: OptionValues,
  name: string,
  choices: readonly T[],
  fallback: T,
): T {
  const raw = stringOption(values, name) ?? fallback;
  if (!(choices as readonly string[]).includes(raw))
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}; got "${raw}"`);
  return raw as T;
}

/** "7d", "12h", "30m", "45s" or plain milliseconds → milliseconds. */
export function durationOption(values: OptionValues, name: string, fallbackMs: number): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw);
  if (!match) throw new UsageError(`--${name} must be a duration like 7d, 12h, 30m; got "${raw}"`);
  const unit = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[(match[2] ?? "ms") as "ms" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

/** "10%" or "0.1" → 0.1: a share strictly between 0 and 1. */
export function shareOption(values: OptionValues, name: string): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(raw);
  const share = match ? Number(match[1]) / (match[2] ? 100 : 1) : Number.NaN;
  if (!(share > 0 && share < 1)) throw new UsageError(`--${name} must be a share like 10% or 0.1, got "${raw}"`);
  return share;
}
