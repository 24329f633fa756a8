import { DEFAULT_CONTROL, type Catalogue } from "../../shared/catalogue.ts";
import { createDecisionEngine, type DecisionEngine } from "../../shared/decide.ts";
import { EXPERIMENT_KEY, parseExperiment, type ArmServes, type Experiment } from "../../shared/experiment.ts";
import type { CompiledFeatureSpec } from "../../shared/features.ts";
import { describeLoadFailure, fetchPolicy } from "../policy/kv-policy.ts";

/** A verified experiment, with a decision engine ready for each of its arms. */
export interface RunningExperiment {
  experiment: Experiment;
  engines: ReadonlyMap<string, DecisionEngine>;
  /** The shadow policy's engine: asked for its probabilities, never for a decision. */
  shadow: DecisionEngine | null;
  /** The KV text it came from: an unchanged text is not parsed or loaded again. */
  text: string;
}

/**
 * The experiment of this isolate, read from KV like the policy: at most once per refresh window,
 * rebuilt only when its text changed, and swapped only once every arm can serve (each policy arm's
 * bytes verified like a published policy's). A malformed experiment keeps the last good one running
 * and says why in `problem`; a deleted key ends the experiment.
 */
export class ExperimentCache {
  readonly #catalogue: Catalogue;
  readonly #spec: CompiledFeatureSpec;
  #running: RunningExperiment | null = null;
  #problem: string | null = null;
  #checkedAt: number | null = null;
  #refreshesStarted = 0;
  #refreshApplied = 0;

  constructor(catalogue: Catalogue, spec: CompiledFeatureSpec) {
    this.#catalogue = catalogue;
    this.#spec = spec;
  }

  get problem(): string | null {
    return this.#problem;
  }

  get running(): RunningExperiment | null {
    return this.#running;
  }

  async current(kv: KVNamespace, now: number, refreshMs: number): Promise<RunningExperiment | null> {
    if (this.#checkedAt !== null && now - this.#checkedAt < refreshMs) return this.#running;
    if (this.#checkedAt !== null) this.#checkedAt = now;
    await this.#refresh(kv);
    this.#checkedAt = now;
    return this.#running;
  }

  async #refresh(kv: KVNamespace): Promise<void> {
    const refresh = ++this.#refreshesStarted;
    const next = await this.#load(kv);
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

  async #load(kv: KVNamespace): Promise<{ running: RunningExperiment | null; problem: string | null }> {
    const running = this.#running;
    try {
      const text = await kv.get(EXPERIMENT_KEY, "text");
      if (text === null) return { running: null, problem: null };
      if (text === running?.text) return { running, problem: null };
      const experiment = parseExperiment(text);
      const engines = new Map<string, DecisionEngine>();
      for (const arm of experiment.arms) engines.set(arm.name, await this.#engineFor(kv, arm.serves));
      const shadow = experiment.shadow ? await this.#engineFor(kv, { type: "policy", ...experiment.shadow }) : null;
      return { running: { experiment, engines, shadow, text }, problem: null };
    } catch (error) {
      return { running, problem: error instanceof RangeError ? error.message : describeLoadFailure(error) };
    }
  }

  async #engineFor(kv: KVNamespace, serves: ArmServes): Promise<DecisionEngine> {
    switch (serves.type) {
      case "control":
        return createDecisionEngine(null, this.#catalogue, this.#spec);
      case "promotion":
        // Served like the control, with the same exploration around it: throws a RangeError for a
        // promotion the catalogue does not have.
        return createDecisionEngine(null, this.#catalogue, this.#spec, {
          action: serves.id,
          exploration: DEFAULT_CONTROL.exploration,
        });
      case "policy": {
        const expect = { featureSpecHash: this.#spec.hash, actions: this.#catalogue.map((p) => p.id) };
        const policy = await fetchPolicy(kv, serves, expect);
        return createDecisionEngine(policy, this.#catalogue, this.#spec);
      }
    }
  }
}
