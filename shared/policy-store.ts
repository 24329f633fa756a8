import { z } from "zod";

/**
 * Where policies live in KV, the contract between `promo publish` and the edge:
 * - `policy:<version>`: one policy's bytes, immutable once written;
 * - `policy:current`: the small pointer the edge re-reads every few seconds;
 * - `policy:history`: every pointer move, so that a rollback knows where "back" is.
 * Publishing writes the version first and the pointer second, so the edge never follows a pointer
 * to a value that is not there yet.
 */
export const POLICY_POINTER_KEY = "policy:current";
export const POLICY_HISTORY_KEY = "policy:history";
export const POLICY_KEY_PREFIX = "policy:";

/** Letters, digits, '.', '_' and '-': safe in a KV key, a file name and a log line. */
const versionName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\w.-]+$/, "use letters, digits, '.', '_' and '-'")
  .refine((v) => v !== "current" && v !== "history", 'a version cannot be named "current" or "history"');

export const policyPointerSchema = z.object({
  version: versionName,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits"),
});
export type PolicyPointer = z.infer<typeof policyPointerSchema>;

export const pointerMoveSchema = policyPointerSchema.extend({
  at: z.string(),
  /** promote: an experiment's winning arm moved to 100% (by the operator or the monitor). */
  reason: z.enum(["publish", "rollback", "promote"]),
});
export type PointerMove = z.infer<typeof pointerMoveSchema>;

/** The key of an immutable policy version. */
export function policyVersionKey(version: string): string {
  return `${POLICY_KEY_PREFIX}${version}`;
}

/** Whether a key under the policy prefix holds a version (not the pointer, not the history). */
export function isPolicyVersionKey(key: string): boolean {
  return key.startsWith(POLICY_KEY_PREFIX) && key !== POLICY_POINTER_KEY && key !== POLICY_HISTORY_KEY;
}

/** Why a stored value was not taken: names the key and the first problem. */
export class PolicyStoreError extends Error {
  override readonly name = "PolicyStoreError";
}

/** Why `version` cannot name a policy, or null when it can. */
export function versionNameProblem(version: string): string | null {
  const parsed = versionName.safeParse(version);
  return parsed.success ? null : parsed.error.issues[0]!.message;
}

/** The pointer's text as KV holds it, checked. Throws {@link PolicyStoreError}. */
export function parsePolicyPointer(text: string): PolicyPointer {
  return parseStored(POLICY_POINTER_KEY, text, policyPointerSchema);
}

/** The pointer history's text as KV holds it, checked. Throws {@link PolicyStoreError}. */
export function parsePointerHistory(text: string): PointerMove[] {
  return parseStored(POLICY_HISTORY_KEY, text, z.array(pointerMoveSchema));
}

/** A stored JSON value under `key`, checked against `schema`. Throws {@link PolicyStoreError} naming the key. */
export function parseStored<T>(key: string, text: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PolicyStoreError(`${key} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PolicyStoreError(`${key} is invalid: ${issue.path.join(".") || "value"}: ${issue.message}`);
  }
  return parsed.data;
}
