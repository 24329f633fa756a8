import { openPolicyKv } from "../../publish/open-kv.ts";
import { PolicyRegistry } from "../../publish/registry.ts";
import { choiceOption, stringOption, type Command } from "../command.ts";
import { KV_TARGETS, TARGET_USAGE } from "./publish.ts";

export const rollbackCommand: Command = {
  name: "rollback",
  summary: "move the policy pointer back to the previous version, or to --to <version>",
  usage: `usage: promo rollback [--to <version>] [--target local|remote]

  --to V          the version to serve (default: the one current before this one)
${TARGET_USAGE}`,
  options: { to: { type: "string" }, target: { type: "string" }, "persist-to": { type: "string" } },
  async run({ values }) {
    const store = await openPolicyKv(
      choiceOption(values, "target", KV_TARGETS, "local"),
      stringOption(values, "persist-to"),
    );
    try {
      const registry = new PolicyRegistry(store.kv);
      const from = await registry.current();
      const to = await registry.rollback(stringOption(values, "to"));
      return {
        summary: `rolled back ${store.where} from ${from?.version ?? "nothing"} to ${to.version}`,
        json: { from: from?.version ?? null, to: to.version, sha256: to.sha256 },
      };
    } finally {
      await store.close();
    }
  },
};
