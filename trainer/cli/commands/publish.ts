import { readFile } from "node:fs/promises";
import { decodePolicy } from "../../../shared/policy/format.ts";
import type { Policy } from "../../../shared/policy/types.ts";
import { publishGate, type GateDecision } from "../../ope/gate.ts";
import { openPolicyKv, type KvTarget } from "../../publish/open-kv.ts";
import { PolicyRegistry } from "../../publish/registry.ts";
import { choiceOption, UsageError, stringOption, type Command } from "../command.ts";

export const KV_TARGETS = ["local", "remote"] as const satisfies readonly KvTarget[];
export const TARGET_USAGE = `  --target T      local (the KV that wrangler dev persists) or remote (CLOUDFLARE_ACCOUNT_ID,
                  CLOUDFLARE_KV_NAMESPACE_ID, CLOUDFLARE_API_TOKEN); default local
  --persist-to D  local state directory, as wrangler's --persist-to; default .wrangler/state`;

export const publishCommand: Command = {
  name: "publish",
  summary: "write a policy to KV (the version, then the pointer), if it beats the current one",
  usage: `usage: promo publish <policy.bin> [--target local|remote] [--force]

${TARGET_USAGE}
  --force         publish even when the offline estimate does not beat the current policy`,
  options: { target: { type: "string" }, "persist-to": { type: "string" }, force: { type: "boolean", default: false } },
  async run({ values, positionals, log }) {
    const [file] = positionals;
    if (!file) throw new UsageError("give the policy file to publish");
    const bytes = new Uint8Array(await readFile(file));
    const candidate = decodePolicy(bytes);
    const target = choiceOption(values, "target", KV_TARGETS, "local");
    const store = await openPolicyKv(target, stringOption(values, "persist-to"));
    try {
      const registry = new PolicyRegistry(store.kv);
      const current = await registry.current();
      const gate = gatePublication(candidate, current?.version ?? null, values.force === true);
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
      const listing = await registry.publish(bytes);
      return {
        summary: `published ${listing.version} (${listing.algorithm}, ${listing.bytes} bytes) to ${store.where}; ${gate.reason}`,
        json: { published: true, ...listing, previous: current?.version ?? null, reason: gate.reason },
      };
    } finally {
      await store.close();
    }
  },
};

/**
 * What the candidate must beat: the estimate of the current policy on the candidate's own evaluation
 * data, recorded at training time as its baseline. Comparing with an estimate made on other data
 * would compare two different populations, so a baseline that is not the current policy refuses.
 */
export function gatePublication(candidate: Policy, currentVersion: string | null, force: boolean): GateDecision {
  const training = candidate.meta.training;
  if (!training?.estimate)
    return refuseUnlessForced("the policy carries no offline estimate; train it with `promo train`", force);
  const baseline = training.baseline ?? null;
  const served = currentVersion ?? "fallback";
  if (baseline === null) return publishGate(training.estimate, null, { force });
  if (baseline.version !== served) {
    return refuseUnlessForced(
      `the candidate was compared with ${baseline.version}, but ${served} is current now; retrain`,
      force,
    );
  }
  return publishGate(training.estimate, baseline.estimate, { force });
}

function refuseUnlessForced(reason: string, force: boolean): GateDecision {
  return force
    ? { allowed: true, reason: `forced with --force, overriding: ${reason}` }
    : { allowed: false, reason: `${reason}, or publish with --force` };
}
