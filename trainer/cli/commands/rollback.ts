import { openPolicyKv } from "../../publish/open-kv.ts";
import { PolicyRegistry } from "../../../shared/policy-registry.ts";
import { defineCommand, stringOption } from "../command.ts";
import { parseTargetOption, TARGET_OPTIONS, TARGET_USAGE } from "../target-option.ts";

export const rollbackCommand = defineCommand({
  name: "rollback",
  summary: "move the policy pointer back to the previous version, or to --to <version>",
  usage: `usage: promo rollback [--to <version>] [--target local|remote]

  --to V          the version to serve (default: the one current before this one)
${TARGET_USAGE}`,
  options: { to: { type: "string" }, ...TARGET_OPTIONS },
  parse({ values }) {
    return {
      target: parseTargetOption(values),
      to: stringOption(values, "to"),
    };
  },
  async run({ target, to: toVersion }) {
    const store = await openPolicyKv(target);
    try {
      const registry = new PolicyRegistry(store.kv);
      const from = await registry.current();
      const to = await registry.rollback(toVersion);
      return {
        summary: `rolled back ${store.where} from ${from?.version ?? "nothing"} to ${to.version}`,
        json: { from: from?.version ?? null, to: to.version, sha256: to.sha256 },
      };
    } finally {
      await store.close();
    }
  },
});
