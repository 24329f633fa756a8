import { openPolicyKv } from "../../publish/open-kv.ts";
import { PolicyRegistry } from "../../../shared/policy-registry.ts";
import { defineCommand } from "../command.ts";
import { parseTargetOption, TARGET_OPTIONS, TARGET_USAGE } from "../target-option.ts";

export const policiesCommand = defineCommand({
  name: "policies",
  summary: "list the published policy versions with their offline estimates and data windows",
  usage: `usage: promo policies [--target local|remote]

${TARGET_USAGE}`,
  options: TARGET_OPTIONS,
  parse({ values }) {
    return parseTargetOption(values);
  },
  async run(target) {
    const store = await openPolicyKv(target);
    try {
      const listings = await new PolicyRegistry(store.kv).list();
      const rows = listings.map((l) => {
        const estimate = l.estimate
          ? `${l.estimate.estimator} ${l.estimate.value.toFixed(4)} [${l.estimate.lower.toFixed(4)}, ${l.estimate.upper.toFixed(4)}]`
          : "no estimate";
        const window =
          l.dataFrom && l.dataTo ? `${l.dataFrom.slice(0, 16)} → ${l.dataTo.slice(0, 16)}` : "no data window";
        return `${l.current ? "*" : " "} ${l.version}  ${l.algorithm.padEnd(6)}  ${estimate}  ${window}`;
      });
      const header = `${listings.length} polic${listings.length === 1 ? "y" : "ies"} in ${store.where}${listings.length ? " (* = current)" : ""}`;
      return { summary: [header, ...rows].join("\n"), json: { policies: listings } };
    } finally {
      await store.close();
    }
  },
});
