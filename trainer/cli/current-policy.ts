import { readFile } from "node:fs/promises";
import { decodePolicy } from "../../shared/policy/format.ts";
import type { Policy } from "../../shared/policy/types.ts";
import { openPolicyKv, parseKvTarget, type KvTarget } from "../publish/open-kv.ts";
import type { SourceSpec } from "../sources/index.ts";
import { policyVersionKey } from "../../shared/policy-store.ts";
import { PolicyRegistry } from "../../shared/policy-registry.ts";
import { UsageError } from "./command.ts";

export const AGAINST_USAGE = `  --against A     the current policy the candidate must beat: local | remote (the KV's current
                  policy), none (the uniform fallback), or a policy file; default: the KV
                  matching --source (none for a file source)`;

/** What `--against` names: nothing (the fallback), a policy file, or the policy a KV serves. */
export type AgainstSpec = { kind: "none" } | { kind: "file"; path: string } | { kind: "kv"; target: KvTarget };

/** `--against`, checked; its default is the KV that goes with the log source (none for a file). */
export function parseAgainst(
  raw: string | undefined,
  source: SourceSpec["kind"],
  persistTo: string | undefined,
): AgainstSpec {
  // The archive's KV: local beside the local archive, remote beside a real bucket.
  const against =
    raw ?? (source === "file" ? "none" : source === "archive" ? "local" : source === "archive-r2" ? "remote" : source);
  if (against === "none") return { kind: "none" };
  if (against === "local" || against === "remote") return { kind: "kv", target: parseKvTarget(against, persistTo) };
  return { kind: "file", path: against };
}

/** The published policy to compare with, or null when the edge would serve its fallback. */
export async function loadCurrentPolicy(against: AgainstSpec): Promise<Policy | null> {
  if (against.kind === "none") return null;
  if (against.kind === "file") return decodePolicy(new Uint8Array(await readFile(against.path)));
  const store = await openPolicyKv(against.target);
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

export function checkComparable(current: Policy | null, featureSpecHash: string, actions: readonly string[]): void {
  if (current === null) return;
  if (current.meta.featureSpecHash !== featureSpecHash || current.meta.actions.join() !== actions.join()) {
    throw new UsageError(
      `the current policy ${current.meta.version} was trained on other features or actions than these logs; ` +
        "compare with --against none or a policy file that matches",
    );
  }
}
