import { z } from "zod";
import { sha256Hex } from "../../shared/hash.ts";
import { decodePolicy, PolicyFormatError, type DecodeExpectations, type Policy } from "../../shared/policy/index.ts";

/** The small mutable pointer. Publishing writes `policy:<version>` first, then moves this. */
export const POLICY_POINTER_KEY = "policy:current";

/** The immutable value holding one policy version's bytes. */
export function policyKey(version: string): string {
  return `policy:${version}`;
}

const pointerSchema = z.object({
  version: z.string().min(1).max(128),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits"),
});
export type PolicyPointer = z.infer<typeof pointerSchema>;

/** Why a published policy was not taken: the pointer, the bytes, or the format was wrong. */
export class PolicyLoadError extends Error {
  override readonly name = "PolicyLoadError";
}

/** The pointer, or null when nothing was ever published. */
export async function readPolicyPointer(kv: KVNamespace): Promise<PolicyPointer | null> {
  const text = await kv.get(POLICY_POINTER_KEY, "text");
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PolicyLoadError(`${POLICY_POINTER_KEY} is not JSON`);
  }
  const parsed = pointerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PolicyLoadError(`${POLICY_POINTER_KEY} is invalid: ${issue.path.join(".") || "value"}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Fetches and verifies the policy a pointer names: the bytes must hash to the pointer's sha256,
 * decode (checksum, shapes), match this edge's feature spec and action ids, and carry the version
 * the pointer names. Throws {@link PolicyLoadError} or {@link PolicyFormatError} otherwise.
 */
export async function fetchPolicy(
  kv: KVNamespace,
  pointer: PolicyPointer,
  expect: DecodeExpectations,
): Promise<Policy> {
  const key = policyKey(pointer.version);
  const buffer = await kv.get(key, "arrayBuffer");
  if (buffer === null) throw new PolicyLoadError(`${key} is missing`);
  const bytes = new Uint8Array(buffer);
  const sha256 = await sha256Hex(bytes);
  if (sha256 !== pointer.sha256) {
    throw new PolicyLoadError(`${key} hashes to ${sha256}, the pointer says ${pointer.sha256}`);
  }
  const policy = decodePolicy(bytes, expect);
  if (policy.meta.version !== pointer.version) {
    throw new PolicyLoadError(`${key} holds version "${policy.meta.version}"`);
  }
  return policy;
}

/** One line for logs and /v1/policy. */
export function describeLoadFailure(error: unknown): string {
  if (error instanceof PolicyLoadError || error instanceof PolicyFormatError) return error.message;
  return `KV read failed: ${error instanceof Error ? error.message : String(error)}`;
}
