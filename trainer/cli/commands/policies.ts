import { openPolicyKv } from "../../publish/open-kv.ts";
import { PolicyRegistry } from "../../publish/registry.ts";
import { choiceOption, stringOption, type Command } from "../command.ts";
import { KV_TARGETS, TARGET_USAGE } from "./publish.ts";

export const policiesCommand: Command = {
  name: "policies",
  summary: "list the published policy versions with their offline estimates and data windows",
  usage: `usage: promo policies [--target local|remote]

${TARGET_USAGE}`,
  options: { target: { type: "string" }, "persist-to": { type: "string" } },
  async run({ values }) {
    const store = await openPolicyKv(
      choiceOption(values, "target", KV_TARGETS, "local"),
      stringOption(values, "persist-to"),
    );
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
};
