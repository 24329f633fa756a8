import { KV_TARGETS, parseKvTarget, type KvTarget } from "../publish/open-kv.ts";
import { choiceOption, stringOption, type OptionValues } from "./command.ts";

/** `--target` and `--persist-to`: where the commands that write or read policies find KV. */
export const TARGET_OPTIONS = {
  target: { type: "string" },
  "persist-to": { type: "string" },
} as const;

export const TARGET_USAGE = `  --target T      local (the KV that wrangler dev persists) or remote (CLOUDFLARE_ACCOUNT_ID,
                  CLOUDFLARE_KV_NAMESPACE_ID, CLOUDFLARE_API_TOKEN); default local
  --persist-to D  local state directory, as wrangler's --persist-to; default .wrangler/state`;

export function parseTargetOption(values: OptionValues): KvTarget {
  return parseKvTarget(choiceOption(values, "target", KV_TARGETS, "local"), stringOption(values, "persist-to"));
}
