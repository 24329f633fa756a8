import type { Catalogue } from "../../shared/catalogue.ts";
import { createDecisionEngine, type DecisionEngine } from "../../shared/decide.ts";
import type { CompiledFeatureSpec } from "../../shared/features.ts";
import type { DecodeExpectations, Policy } from "../../shared/policy/index.ts";
import { POLICY_POINTER_KEY, type PolicyPointer } from "../../shared/policy-store.ts";
import { describeLoadFailure, fetchPolicy, readPolicyPointer } from "./kv-policy.ts";

interface SnapshotStatus {
  engine: DecisionEngine;
  /** Why the latest refresh did not serve what the pointer names; null when it does. */
  lastError: string | null;
}

/** What the edge serves: a verified policy from KV (swapped in at `loadedAt`, ms), or the uniform fallback. */
export type PolicySnapshot =
  | (SnapshotStatus & { source: "kv"; policy: Policy; pointer: PolicyPointer; loadedAt: number })
  | (SnapshotStatus & { source: "fallback"; policy: null; pointer: null; loadedAt: null });

/**
 * The decoded policy of this isolate. It re-reads the KV pointer at most once per refresh window,
 * re-decodes only when the pointer moved, and swaps only a policy that verified: on any failure it
 * keeps serving the last good one (or the fallback) and reports why in `lastError`.
 */
export class PolicyCache {
  readonly catalogue: Catalogue;
  readonly spec: CompiledFeatureSpec;
  readonly actionIds: readonly string[];
  #snapshot: PolicySnapshot;
  #fault: { version: string; reason: string } | null = null;
  #checkedAt: number | null = null;
  #refreshesStarted = 0;
  #refreshApplied = 0;

  constructor(catalogue: Catalogue, spec: CompiledFeatureSpec) {
    this.catalogue = catalogue;
    this.spec = spec;
    this.actionIds = catalogue.map((p) => p.id);
    this.#snapshot = {
      source: "fallback",
      policy: null,
      pointer: null,
      engine: createDecisionEngine(null, catalogue, spec),
      loadedAt: null,
      lastError: null,
    };
  }

  /** Why the latest refresh was refused, or else why the policy served cannot decide; null when all is well. */
  get problem(): string | null {
    return this.#snapshot.lastError ?? this.#faultOfServed();
  }

  /**
   * A decision the policy could not make (see Decision.fault). It stays reported for as long as that
   * version is served: a refresh that finds the same pointer does not make the policy decide again.
   */
  recordFault(reason: string): void {
    if (this.#fault?.reason !== reason) console.error(reason);
    this.#fault = { version: this.#snapshot.engine.version, reason };
  }

  #faultOfServed(): string | null {
    return this.#fault?.version === this.#snapshot.engine.version ? this.#fault.reason : null;
  }

  /** When the pointer was last read, ms; null before the first request. */
  get checkedAt(): number | null {
    return this.#checkedAt;
  }

  async current(kv: KVNamespace, now: number, refreshMs: number): Promise<PolicySnapshot> {
    if (this.#checkedAt !== null && now - this.#checkedAt < refreshMs) return this.#snapshot;
    // Claim the refresh so that requests arriving meanwhile serve the current policy instead of all
    // reading KV. A cold isolate has nothing worth serving yet: there, every request waits.
    if (this.#checkedAt !== null) this.#checkedAt = now;
    await this.#refresh(kv, now);
    this.#checkedAt = now;
    return this.#snapshot;
  }

  async #refresh(kv: KVNamespace, now: number): Promise<void> {
    const refresh = ++this.#refreshesStarted;
    const next = await this.#load(kv, now);
    // Refreshes can overlap (a cold isolate, a zero window): the latest one to start wins.
    if (refresh < this.#refreshApplied) return;
    this.#refreshApplied = refresh;
    this.#snapshot = next;
  }

  async #load(kv: KVNamespace, now: number): Promise<PolicySnapshot> {
    const served = this.#snapshot;
    try {
      const pointer = await readPolicyPointer(kv);
      if (pointer === null) {
        return { ...served, lastError: served.source === "kv" ? `${POLICY_POINTER_KEY} is missing` : null };
      }
      if (
        served.source === "kv" &&
        served.pointer.version === pointer.version &&
        served.pointer.sha256 === pointer.sha256
      ) {
        return { ...served, lastError: null };
      }
      const policy = await fetchPolicy(kv, pointer, this.#expectations());
      return {
        source: "kv",
        policy,
        pointer,
        engine: createDecisionEngine(policy, this.catalogue, this.spec),
        loadedAt: now,
        lastError: null,
      };
    } catch (error) {
      const reason = describeLoadFailure(error);
      console.error(`policy refresh failed, still serving ${served.engine.version}: ${reason}`);
      return { ...served, lastError: reason };
    }
  }

  #expectations(): DecodeExpectations {
    return { featureSpecHash: this.spec.hash, actions: this.actionIds };
  }
}
