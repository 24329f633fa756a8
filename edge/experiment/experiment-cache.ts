import { DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import { createDecisionEngine, type DecisionEngine } from "../../shared/decide.ts";
import { EXPERIMENT_KEY, parseExperiment, type ArmServes, type Experiment } from "../../shared/experiment.ts";
import type { ServedCatalogue } from "../policy/kv-catalogue.ts";
import { describeLoadFailure, fetchPolicy } from "../policy/kv-policy.ts";

/** A verified experiment, with a decision engine ready for each of its arms. */
export interface RunningExperiment {
  experiment: Experiment;
  engines: ReadonlyMap<string, DecisionEngine>;
  /** The shadow policy's engine: asked for its probabilities, never for a decision. */
  shadow: DecisionEngine | null;
  /** The KV text it came from: an unchanged text under the same catalogue is not parsed or loaded again. */
  text: string;
  catalogue: ServedCatalogue;
}

/**
 * The experiment of this isolate, read from KV like the policy: at most once per refresh window,
 * rebuilt only when its text changed, and swapped only once every arm can serve (each policy arm's
 * bytes verified like a published policy's). A malformed experiment keeps the last good one running
 * and says why in `problem`; a deleted key ends the experiment. Its arms decide under the catalogue
 * the policy cache serves, and are rebuilt when that changes.
 */
export class ExperimentCache {
  #running: RunningExperiment | null = null;
  #problem: string | null = null;
  #checkedAt: number | null = null;
  #refreshesStarted = 0;
  #refreshApplied = 0;

  get problem(): string | null {
    return this.#problem;
  }

  get running(): RunningExperiment | null {
    return this.#running;
  }

  async current(
    kv: KVNamespace,
    now: number,
    refreshMs: number,
    catalogue: ServedCatalogue,
  ): Promise<RunningExperiment | null> {
    const stale = this.#running !== null && this.#running.catalogue !== catalogue;
    if (!stale && this.#checkedAt !== null && now - this.#checkedAt < refreshMs) return this.#running;
    if (this.#checkedAt !== null) this.#checkedAt = now;
    await this.#refresh(kv, catalogue);
    this.#checkedAt = now;
    return this.#running;
  }

  async #refresh(kv: KVNamespace, catalogue: ServedCatalogue): Promise<void> {
    const refresh = ++this.#refreshesStarted;
    const next = await this.#load(kv, catalogue);
    // Refreshes can overlap (a cold isolate, a zero window): the latest one to start wins, so a slow
    // read of an older experiment never replaces a newer one.
    if (refresh < this.#refreshApplied) return;
    this.#refreshApplied = refresh;
    if (next.problem !== null && next.problem !== this.#problem) {
      const kept = next.running ? `still running ${next.running.experiment.id}` : "no experiment running";
      console.error(`${EXPERIMENT_KEY} refused, ${kept}: ${next.problem}`);
    }
    this.#running = next.running;
    this.#problem = next.problem;
  }

  async #load(
    kv: KVNamespace,
    catalogue: ServedCatalogue,
  ): Promise<{ running: RunningExperiment | null; problem: string | null }> {
    const running = this.#running;
    try {
      const text = await kv.get(EXPERIMENT_KEY, "text");
      if (text === null) return { running: null, problem: null };
      if (text === running?.text && catalogue === running.catalogue) return { running, problem: null };
      const experiment = parseExperiment(text);
      const engines = new Map<string, DecisionEngine>();
      for (const arm of experiment.arms) engines.set(arm.name, await this.#engineFor(kv, arm.serves, catalogue));
      const shadow = experiment.shadow
        ? await this.#engineFor(kv, { type: "policy", ...experiment.shadow }, catalogue)
        : null;
      return { running: { experiment, engines, shadow, text, catalogue }, problem: null };
    } catch (error) {
      return { running, problem: error instanceof RangeError ? error.message : describeLoadFailure(error) };
    }
  }

  async #engineFor(kv: KVNamespace, serves: ArmServes, catalogue: ServedCatalogue): Promise<DecisionEngine> {
    const { promotions, newPromotions } = catalogue.document;
    const { spec } = catalogue;
    switch (serves.type) {
      case "control":
        return createDecisionEngine(null, promotions, spec);
      case "promotion":
        // Served like the control, with the same exploration around it: throws a RangeError for a
        // promotion the catalogue does not have.
        return createDecisionEngine(null, promotions, spec, {
          action: serves.id,
          exploration: DEFAULT_CONTROL.exploration,
        });
      case "policy": {
        const expect = { featureSpecHash: spec.hash, actions: catalogue.actionIds };
        const policy = await fetchPolicy(kv, serves, expect);
        return createDecisionEngine(policy, promotions, spec, DEFAULT_CONTROL, newPromotions);
      }
    }
  }
}
