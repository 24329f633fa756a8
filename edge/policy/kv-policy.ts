import { sha256Hex } from "../../shared/hash.ts";
import {
  parsePolicyPointer,
  policyVersionKey,
  POLICY_POINTER_KEY,
  PolicyStoreError,
  type PolicyPointer,
} from "../../shared/policy-store.ts";
import { decodePolicy, PolicyFormatError, type DecodeExpectations, type Policy } from "../../shared/policy/index.ts";

/** Why a published policy was not taken: the bytes, or the version they hold, were wrong. */
export class PolicyLoadError extends Error {
  override readonly name = "PolicyLoadError";
}

/** The pointer, or null when nothing was ever published. Throws {@link PolicyStoreError} when it is malformed. */
export async function readPolicyPointer(kv: KVNamespace): Promise<PolicyPointer | null> {
  const text = await kv.get(POLICY_POINTER_KEY, "text");
  return text === null ? null : parsePolicyPointer(text);
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
  const key = policyVersionKey(pointer.version);
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
  if (error instanceof PolicyLoadError || error instanceof PolicyStoreError || error instanceof PolicyFormatError)
    return error.message;
  return `KV read failed: ${error instanceof Error ? error.message : String(error)}`;
}
