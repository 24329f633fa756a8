import { readFile } from "node:fs/promises";
import { decodePolicy } from "../../../shared/policy/format.ts";
import { gatePublication } from "../../ope/gate.ts";
import { openPolicyKv } from "../../publish/open-kv.ts";
import { PolicyRegistry } from "../../../shared/policy-registry.ts";
import { storeAndStartCanary } from "../../experiment/canary.ts";
import { defineCommand, shareOption, UsageError } from "../command.ts";
import { parseTargetOption, TARGET_OPTIONS, TARGET_USAGE } from "../target-option.ts";

export const publishCommand = defineCommand({
  name: "publish",
  summary: "write a policy to KV (the version, then the pointer), if it beats the current one",
  usage: `usage: promo publish <policy.bin> [--target local|remote] [--force] [--canary 10% [--auto-promote]]

${TARGET_USAGE}
  --force         publish even when the offline estimate does not beat the current policy
  --canary S      store the version and start a canary on share S of visitors (against what serves
                  today) instead of moving the pointer; the monitor rolls it back if it loses
  --auto-promote  with --canary: let the monitor move a confident winner to 100%`,
  options: {
    ...TARGET_OPTIONS,
    force: { type: "boolean", default: false },
    canary: { type: "string" },
    "auto-promote": { type: "boolean", default: false },
  },
  parse({ values, positionals }) {
    const [file] = positionals;
    if (!file) throw new UsageError("give the policy file to publish");
    const canary = shareOption(values, "canary");
    if (values["auto-promote"] === true && canary === undefined)
      throw new UsageError("--auto-promote goes with --canary");
    return {
      file,
      target: parseTargetOption(values),
      force: values.force === true,
      canary: canary === undefined ? null : { share: canary, autoPromote: values["auto-promote"] === true },
    };
  },
  async run({ file, target, force, canary }, { log }) {
    const bytes = new Uint8Array(await readFile(file));
    const candidate = decodePolicy(bytes);
    const store = await openPolicyKv(target);
    try {
      const registry = new PolicyRegistry(store.kv);
      const current = await registry.current();
      const gate = gatePublication(candidate, current?.version ?? null, force);
      log(`gate: ${gate.reason}`);
      if (!gate.allowed) {
        return {
          summary: `refused ${candidate.meta.version}: ${gate.reason}`,
          json: {
            published: false,
            version: candidate.meta.version,
            current: current?.version ?? null,
            reason: gate.reason,
          },
          exitCode: 3,
        };
      }
      if (canary !== null) {
        const { stored, experiment } = await storeAndStartCanary(store.kv, bytes, { ...canary, now: new Date() });
        return {
          summary: `stored ${stored.version} in ${store.where} and started ${experiment.id}: ${experiment.arms.map((a) => `${a.name} ${(a.weight * 100).toFixed(0)}%`).join(", ")}; ${gate.reason}`,
          json: { published: false, canary: experiment, ...stored, reason: gate.reason },
        };
      }
      const listing = await registry.publish(bytes);
      return {
        summary: `published ${listing.version} (${listing.algorithm}, ${listing.bytes} bytes) to ${store.where}; ${gate.reason}`,
        json: { published: true, ...listing, previous: current?.version ?? null, reason: gate.reason },
      };
    } finally {
      await store.close();
    }
  },
});
