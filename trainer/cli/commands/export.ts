import { openLogSource, SOURCE_SPECS } from "../../sources/index.ts";
import { exportLogs } from "../../sources/write-export.ts";
import { requiredString, stringOption, type Command } from "../command.ts";

export const SOURCE_USAGE = `  --source S      ${SOURCE_SPECS}; default local
                  remote needs CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_D1_DATABASE_ID, CLOUDFLARE_API_TOKEN
  --persist-to D  local state directory, as wrangler's --persist-to; default .wrangler/state`;

export const exportCommand: Command = {
  name: "export",
  summary: "copy logged decisions and outcomes from a source to a JSONL file",
  usage: `usage: promo export --out <file.jsonl> [--source local|remote|file:<path>]

  --out F         the JSONL file to write (written whole or not at all)
${SOURCE_USAGE}`,
  options: { out: { type: "string" }, source: { type: "string" }, "persist-to": { type: "string" } },
  async run({ values, log, quiet }) {
    const out = requiredString(values, "out");
    const persistTo = stringOption(values, "persist-to");
    const source = await openLogSource(stringOption(values, "source") ?? "local", {
      ...(persistTo === undefined ? {} : { persistTo }),
      onRetry: ({ delayMs, reason }) => log(`retrying in ${(delayMs / 1000).toFixed(1)} s: ${reason}`),
    });
    try {
      const totals = await exportLogs(source, out, { quiet, log });
      return {
        summary: `exported ${totals.decisions} decisions and ${totals.outcomes} outcomes from ${source.description} to ${out}`,
        json: { out, ...totals, source: source.description },
      };
    } finally {
      await source.close();
    }
  },
};
