import { parseArgs } from "node:util";
import { COMMON_OPTIONS, COMMON_USAGE, UsageError, type Command, type OptionValues } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "promo: train, evaluate and publish edge-promo policies",
    "",
    "usage: promo <command> [options]",
    "",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `promo <command> --help` for a command's options.",
  ].join("\n");
}

function commandHelp(command: Command): string {
  return [`promo ${command.name}: ${command.summary}`, "", command.usage.trimEnd(), COMMON_USAGE].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(topLevelHelp());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`promo: unknown command "${name}"\n\n${topLevelHelp()}`);
    return 2;
  }
  let json = false;
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...command.options, ...COMMON_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
    const values: OptionValues = parsed.values;
    const positionals = parsed.positionals;
    if (values.help) {
      console.log(commandHelp(command));
      return 0;
    }
    json = values.json === true;
    let start: ReturnType<Command["prepare"]>;
    try {
      start = command.prepare({ values, positionals });
    } catch (error) {
      // Whatever parse refuses (a flag, a missing credential) is the caller's to fix.
      throw error instanceof UsageError
        ? error
        : new UsageError(error instanceof Error ? error.message : String(error));
    }
    const quiet = json || values.quiet === true;
    const log = quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
    const result = await start({ log, quiet });
    console.log(json ? JSON.stringify(result.json) : result.summary);
    return result.exitCode ?? 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (json) console.log(JSON.stringify({ error: message }));
    if (error instanceof UsageError || isParseArgsError(error)) {
      console.error(`promo ${command.name}: ${message}\n\n${commandHelp(command)}`);
      return 2;
    }
    console.error(`promo ${command.name}: ${message}`);
    if (process.env.PROMO_DEBUG && error instanceof Error) console.error(error.stack);
    return 1;
  }
}

function isParseArgsError(error: unknown): boolean {
  return error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS");
}
