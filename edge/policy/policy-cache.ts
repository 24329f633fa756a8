import type { CatalogueDocument } from "../../shared/catalogue-document.ts";
import { DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import { createDecisionEngine, type DecisionEngine } from "../../shared/decide.ts";
import type { CompiledFeatureSpec } from "../../shared/features.ts";
import type { DecodeExpectations, Policy } from "../../shared/policy/index.ts";
import { POLICY_POINTER_KEY, type PolicyPointer } from "../../shared/policy-store.ts";
import { readCatalogue, readThrottles, servedCatalogue, type ServedCatalogue } from "./kv-catalogue.ts";
import type { Throttles } from "../../shared/budget.ts";
import { describeLoadFailure, fetchPolicy, readPolicyPointer } from "./kv-policy.ts";

interface SnapshotStatus {
  engine: DecisionEngine;
  /** The catalogue the engine decides under. */
  catalogue: ServedCatalogue;
  /** The budget monitor's throttles, as last read. */
  throttles: Throttles;
  /** Why the latest refresh did not serve what the pointer and the catalogue say; null when it does. */
  lastError: string | null;
}

/** What the edge serves: a verified policy from KV (swapped in at `loadedAt`, ms), or the uniform fallback. */
export type PolicySnapshot =
  | (SnapshotStatus & { source: "kv"; policy: Policy; pointer: PolicyPointer; loadedAt: number })
  | (SnapshotStatus & { source: "fallback"; policy: null; pointer: null; loadedAt: null });

/**
 * The decoded policy of this isolate, and the catalogue it decides under. It re-reads the KV
 * pointer and the catalogue at most once per refresh window, re-decodes only when the pointer
 * moved, and swaps only a policy that verified and fits the catalogue: on any failure it keeps
 * serving the last good one (or the fallback) and reports why in `lastError`. A new catalogue is
 * always taken (it is the operator's word on what may be shown): a policy that cannot serve it
 * gives way to the control.
 */
export class PolicyCache {
  readonly #builtIn: ServedCatalogue;
  #snapshot: PolicySnapshot;
  #fault: { version: string; reason: string } | null = null;
  #checkedAt: number | null = null;
  #refreshesStarted = 0;
  #refreshApplied = 0;

  /** `spec` is the edge's own; the served catalogue's profile fields extend it. */
  constructor(builtIn: CatalogueDocument, spec: CompiledFeatureSpec) {
    this.#builtIn = servedCatalogue(builtIn, null, spec.spec);
    this.#snapshot = this.#fallback(this.#builtIn, null);
  }

  /** The catalogue served now: what the page may show, and what decisions are logged under. */
  get catalogue(): ServedCatalogue {
    return this.#snapshot.catalogue;
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
    // What serves unless a new policy loads: the served policy, rebuilt over a new catalogue (or the
    // control over it, with the reason, where the policy cannot serve it).
    let kept: PolicySnapshot = served;
    let catalogueProblem: string | null = null;
    let throttles = served.throttles;
    try {
      const [catalogueRead, throttlesRead] = await Promise.all([
        readCatalogue(kv, served.catalogue, this.#builtIn),
        readThrottles(kv, served.throttles),
      ]);
      const { catalogue } = catalogueRead;
      throttles = throttlesRead.throttles;
      catalogueProblem = joinProblems(catalogueRead.problem, throttlesRead.problem);
      kept = catalogue === served.catalogue ? { ...served, lastError: null } : this.#rebuilt(served, catalogue);
      const withProblems = (snapshot: PolicySnapshot, problem: string | null) => ({
        ...snapshot,
        throttles,
        lastError: joinProblems(problem, snapshot.lastError, catalogueProblem),
      });
      const pointer = await readPolicyPointer(kv);
      if (pointer === null) {
        return withProblems(kept, served.source === "kv" ? `${POLICY_POINTER_KEY} is missing` : null);
      }
      if (kept.source === "kv" && kept.pointer.version === pointer.version && kept.pointer.sha256 === pointer.sha256) {
        return withProblems(kept, null);
      }
      const policy = await fetchPolicy(kv, pointer, this.#expectations(catalogue));
      return withProblems(
        {
          source: "kv",
          policy,
          pointer,
          catalogue,
          throttles,
          engine: createDecisionEngine(
            policy,
            catalogue.document.promotions,
            catalogue.spec,
            DEFAULT_CONTROL,
            catalogue.document.newPromotions,
          ),
          loadedAt: now,
          lastError: null,
        },
        null,
      );
    } catch (error) {
      const reason = describeLoadFailure(error);
      console.error(`policy refresh failed, still serving ${kept.engine.version}: ${reason}`);
      // A rebuilt snapshot's own problem (a policy that cannot serve the new catalogue) is news; the served one's is the last refresh's.
      return {
        ...kept,
        throttles,
        lastError: joinProblems(reason, kept === served ? null : kept.lastError, catalogueProblem),
      };
    }
  }

  /** The served policy over another catalogue, or the control over it when the policy cannot serve it (with the reason). */
  #rebuilt(served: PolicySnapshot, catalogue: ServedCatalogue): PolicySnapshot {
    if (served.source === "fallback") return this.#fallback(catalogue, null);
    const { promotions, newPromotions } = catalogue.document;
    try {
      const engine = createDecisionEngine(served.policy, promotions, catalogue.spec, DEFAULT_CONTROL, newPromotions);
      return { ...served, catalogue, engine, lastError: null };
    } catch (error) {
      const reason = `${served.policy.meta.version} cannot serve catalogue ${catalogue.hash}: ${describeLoadFailure(error)}`;
      console.error(`${reason}; the control serves instead`);
      return this.#fallback(catalogue, reason);
    }
  }

  #fallback(catalogue: ServedCatalogue, lastError: string | null): PolicySnapshot {
    return {
      source: "fallback",
      policy: null,
      pointer: null,
      catalogue,
      throttles: {},
      engine: createDecisionEngine(null, catalogue.document.promotions, catalogue.spec),
      loadedAt: null,
      lastError,
    };
  }

  #expectations(catalogue: ServedCatalogue): DecodeExpectations {
    return { featureSpecHash: catalogue.spec.hash, actions: catalogue.actionIds };
  }
}

function joinProblems(...problems: (string | null)[]): string | null {
  const present = problems.filter((p): p is string => p !== null);
  return present.length === 0 ? null : present.join("; ");
}
