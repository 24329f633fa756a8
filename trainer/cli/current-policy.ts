import { readFile } from "node:fs/promises";
import { decodePolicy } from "../../shared/policy/format.ts";
import type { Policy } from "../../shared/policy/types.ts";
import { openPolicyKv } from "../publish/open-kv.ts";
import { policyVersionKey } from "../../shared/policy-store.ts";
import { PolicyRegistry } from "../publish/registry.ts";
import { UsageError } from "./command.ts";

export const AGAINST_USAGE = `  --against A     the current policy the candidate must beat: local | remote (the KV's current
                  policy), none (the uniform fallback), or a policy file; default: the KV
                  matching --source (none for a file source)`;

/** The published policy to compare with, or null when the edge would serve its uniform fallback. */
export async function loadCurrentPolicy(against: string, persistTo: string | undefined): Promise<Policy | null> {
  if (against === "none") return null;
  if (against !== "local" && against !== "remote") return decodePolicy(new Uint8Array(await readFile(against)));
  const store = await openPolicyKv(against, persistTo);
  try {
    const pointer = await new PolicyRegistry(store.kv).current();
    if (pointer === null) return null;
    const bytes = await store.kv.get(policyVersionKey(pointer.version), "arrayBuffer");
    if (bytes === null) throw new Error(`${store.where}: the pointer names ${pointer.version}, which is missing`);
    return decodePolicy(new Uint8Array(bytes));
  } finally {
    await store.close();
  }
}

/** `--against`'s default: the KV that goes with the log source. */
export function defaultAgainst(source: string): string {
  if (source === "local" || source === "remote") return source;
  return "none";
}

export function checkComparable(current: Policy | null, featureSpecHash: string, actions: readonly string[]): void {
  if (current === null) return;
  if (current.meta.featureSpecHash !== featureSpecHash || current.meta.actions.join() !== actions.join()) {
    throw new UsageError(
      `the current policy ${current.meta.version} was trained on other features or actions than these logs; ` +
        "compare with --against none or a policy file that matches",
    );
  }
}
