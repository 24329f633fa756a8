import { importObd } from "../../obd/import.ts";
import { defineCommand, UsageError, stringOption } from "../command.ts";

export const importCommand = defineCommand({
  name: "import",
  summary: "convert a public logged-bandit dataset to the JSONL log format (obd: Open Bandit Dataset)",
  usage: `usage: promo import obd <campaign-dir> [--out <file.jsonl>]

  <campaign-dir>  e.g. ../shared/data/obd/random/men (men.csv and item_context.csv)
  --out F         where to write; default obd-<policy>-<campaign>.jsonl

Then: promo train --source file:<file.jsonl>`,
  options: { out: { type: "string" } },
  parse({ positionals, values }) {
    const [format, dir] = positionals;
    if (format !== "obd") throw new UsageError(`unknown dataset format "${format ?? ""}"; supported: obd`);
    if (!dir) throw new UsageError("give the campaign directory, e.g. ../shared/data/obd/random/men");
    const parts = dir.replace(/\/+$/, "").split("/");
    return { dir, out: stringOption(values, "out") ?? `obd-${parts.at(-2)}-${parts.at(-1)}.jsonl` };
  },
  async run({ dir, out }, { quiet, log }) {
    const summary = await importObd(dir, out, { quiet, log });
    return {
      summary: `imported ${summary.decisions} decisions with ${summary.clicks} clicks from ${summary.meta.dataset} into ${out}`,
      json: { out, decisions: summary.decisions, clicks: summary.clicks, dataset: summary.meta.dataset },
    };
  },
});
