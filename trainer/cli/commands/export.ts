import { openLogSource, SOURCE_SPECS } from "../../sources/index.ts";
import { exportLogs } from "../../sources/write-export.ts";
import { defineCommand, requiredString } from "../command.ts";
import { parseSourceOption } from "../load-dataset.ts";

export const SOURCE_USAGE = `  --source S      ${SOURCE_SPECS}; default local
                  remote needs CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_D1_DATABASE_ID, CLOUDFLARE_API_TOKEN
  --persist-to D  local state directory, as wrangler's --persist-to; default .wrangler/state`;

export const exportCommand = defineCommand({
  name: "export",
  summary: "copy logged decisions and outcomes from a source to a JSONL file",
  usage: `usage: promo export --out <file.jsonl> [--source local|remote|file:<path>]

  --out F         the JSONL file to write (written whole or not at all)
${SOURCE_USAGE}`,
  options: { out: { type: "string" }, source: { type: "string" }, "persist-to": { type: "string" } },
  parse({ values }) {
    return { out: requiredString(values, "out"), source: parseSourceOption(values) };
  },
  async run({ out, source: spec }, { log, quiet }) {
    const source = await openLogSource(spec, {
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
});
