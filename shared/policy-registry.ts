import { decodePolicy } from "./policy/format.ts";
import { sha256Hex } from "./hash.ts";
import {
  isPolicyVersionKey,
  parsePointerHistory,
  parsePolicyPointer,
  POLICY_HISTORY_KEY,
  POLICY_KEY_PREFIX,
  POLICY_POINTER_KEY,
  policyVersionKey,
  versionNameProblem,
  type PointerMove,
  type PolicyPointer,
} from "./policy-store.ts";
import type { Policy } from "./policy/types.ts";
import type { PolicyKv, PolicyListing } from "./policy-kv.ts";

export class RegistryError extends Error {
  override readonly name = "RegistryError";
}

/**
 * Policies in KV, laid out as shared/policy-store.ts says: immutable versions, a pointer, and a move history.
 * Publishing writes the version first and the pointer second, so the edge can never follow a pointer
 * to a value that is not there yet.
 */
export class PolicyRegistry {
  readonly #kv: PolicyKv;

  constructor(kv: PolicyKv) {
    this.#kv = kv;
  }

  async current(): Promise<PolicyPointer | null> {
    const text = await this.#kv.get(POLICY_POINTER_KEY, "text");
    return text === null ? null : parsePolicyPointer(text);
  }

  async publish(bytes: Uint8Array, now = new Date()): Promise<PolicyListing> {
    const listing = await this.store(bytes);
    await this.movePointer({ version: listing.version, sha256: listing.sha256 }, "publish", now);
    return listing;
  }

  /** Stores a version without serving it: what a canary or shadow arm then names. */
  async store(bytes: Uint8Array): Promise<PolicyListing> {
    const policy = decodePolicy(bytes);
    const listing = listingOf(policy, bytes, await sha256Hex(bytes));
    const problem = versionNameProblem(listing.version);
    if (problem !== null) throw new RegistryError(`"${listing.version}" cannot be a version name: ${problem}`);
    const existing = await this.#kv.get(policyVersionKey(listing.version), "arrayBuffer");
    if (existing !== null && (await sha256Hex(new Uint8Array(existing))) !== listing.sha256) {
      throw new RegistryError(`version ${listing.version} already exists with other content; versions are immutable`);
    }
    await this.#kv.put(policyVersionKey(listing.version), toArrayBuffer(bytes), { metadata: listing });
    return listing;
  }

  /** Moves the pointer to `to`, or to the version that was current before the present one. */
  async rollback(to?: string, now = new Date()): Promise<PolicyPointer> {
    const target = to === undefined ? await this.#previous() : await this.#pointerFor(to);
    await this.movePointer(target, "rollback", now);
    return target;
  }

  async list(): Promise<(PolicyListing & { current: boolean })[]> {
    const current = await this.current();
    const listings: PolicyListing[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#kv.list({ prefix: POLICY_KEY_PREFIX, ...(cursor ? { cursor } : {}) });
      for (const key of page.keys) {
        if (isPolicyVersionKey(key.name) && isListing(key.metadata)) listings.push(key.metadata);
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return listings
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((l) => ({ ...l, current: l.version === current?.version }));
  }

  async history(): Promise<PointerMove[]> {
    const text = await this.#kv.get(POLICY_HISTORY_KEY, "text");
    return text === null ? [] : parsePointerHistory(text);
  }

  async #previous(): Promise<PolicyPointer> {
    const current = await this.current();
    if (!current) throw new RegistryError("nothing is published, so there is nothing to roll back");
    const moves = await this.history();
    // Walk back past every move to the current version: the one before is where we came from.
    for (let i = moves.length - 1; i >= 0; i--) {
      const move = moves[i]!;
      if (move.version !== current.version) return { version: move.version, sha256: move.sha256 };
    }
    throw new RegistryError(`${current.version} is the only version ever published; give --to to choose another`);
  }

  async #pointerFor(version: string): Promise<PolicyPointer> {
    const bytes = await this.#kv.get(policyVersionKey(version), "arrayBuffer");
    if (bytes === null) throw new RegistryError(`no policy version ${version} in KV`);
    return { version, sha256: await sha256Hex(new Uint8Array(bytes)) };
  }

  /** Serves `pointer` from now on, and remembers the move in the history. */
  async movePointer(pointer: PolicyPointer, reason: PointerMove["reason"], now: Date): Promise<void> {
    await this.#kv.put(POLICY_POINTER_KEY, JSON.stringify(pointer));
    const moves = await this.history();
    moves.push({ ...pointer, at: now.toISOString(), reason });
    await this.#kv.put(POLICY_HISTORY_KEY, JSON.stringify(moves.slice(-100)));
  }
}

function listingOf(policy: Policy, bytes: Uint8Array, sha256: string): PolicyListing {
  const training = policy.meta.training;
  const estimate = training?.estimate;
  return {
    version: policy.meta.version,
    algorithm: policy.model.algorithm,
    createdAt: policy.meta.createdAt,
    bytes: bytes.length,
    sha256,
    dataFrom: training?.dataFrom ?? null,
    dataTo: training?.dataTo ?? null,
    estimate: estimate
      ? { estimator: estimate.estimator, value: estimate.value, lower: estimate.lower, upper: estimate.upper }
      : null,
  };
}

function isListing(value: unknown): value is PolicyListing {
  return typeof value === "object" && value !== null && typeof (value as PolicyListing).version === "string";
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
