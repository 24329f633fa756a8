import type { Catalogue, ExposureCounts } from "../../shared/catalogue.ts";
import type { Context } from "../../shared/context.ts";
import { createDecisionEngine, type DecisionEngine } from "../../shared/decide.ts";
import { encodeFeatures, stateKey, type CompiledFeatureSpec } from "../../shared/features.ts";
import { actionProbabilities, greedyAction, UNIFORM_EXPLORATION, type Choice } from "../../shared/policy/explore.ts";
import { compileInference } from "../../shared/policy/infer.ts";
import type { Policy } from "../../shared/policy/types.ts";
import type { LatentState } from "./latent.ts";

/** Everything a policy could be shown at one page view. */
export interface PageView {
  decisionId: string;
  context: Context;
  exposures: ExposureCounts;
  /** 1 where the action may be chosen (the edge's mask, exposure caps included). */
  eligible: Uint8Array;
  /** The visitor's hidden state. Only full-information policies (oracles) may read it. */
  latent: LatentState;
}

/**
 * A policy the simulator can run: its action distribution (for exact scoring and propensity checks)
 * and its draw (what it actually does at that page view, propensity included).
 */
export interface Chooser {
  name: string;
  /** Probability of each action; 0 for ineligible ones. */
  probabilities(view: PageView): Float64Array;
  choose(view: PageView): Choice;
}

/**
 * A decision engine as a chooser: `choose` is the edge's own decision path (features, Q-values,
 * exploration drawn from the decision id), so what the simulator measures is what the Worker does.
 */
export function engineChooser(engine: DecisionEngine, spec: CompiledFeatureSpec, name = engine.version): Chooser {
  const exploration = engine.policy ? engine.policy.meta.exploration : UNIFORM_EXPLORATION;
  const q = engine.policy ? compileInference(engine.policy.model) : null;
  return {
    name,
    probabilities(view) {
      const values = q
        ? q(encodeFeatures(spec, view.context), stateKey(spec, view.context))
        : new Float32Array(view.eligible.length);
      return actionProbabilities(values, view.eligible, exploration);
    },
    choose(view) {
      const decision = engine.decide(view.context, view.exposures, view.decisionId);
      return { action: decision.actionIndex, propensity: decision.propensity, explored: decision.explored };
    },
  };
}

/** A policy file (or none: the edge's uniform fallback) run exactly as the edge runs it. */
export function policyChooser(
  policy: Policy | null,
  catalogue: Catalogue,
  spec: CompiledFeatureSpec,
  name?: string,
): Chooser {
  return engineChooser(createDecisionEngine(policy, catalogue, spec), spec, name);
}

/** Uniform over the eligible actions: the edge's fallback before any policy exists. */
export function uniformChooser(catalogue: Catalogue, spec: CompiledFeatureSpec): Chooser {
  return policyChooser(null, catalogue, spec, "uniform");
}

/** A deterministic policy: the highest-scoring eligible action (the lowest index wins ties). */
export function greedyChooser(name: string, scores: (view: PageView) => ArrayLike<number>): Chooser {
  const pick = (view: PageView) => greedyAction(scores(view), view.eligible);
  return {
    name,
    probabilities(view) {
      const p = new Float64Array(view.eligible.length);
      p[pick(view)] = 1;
      return p;
    },
    choose: (view) => ({ action: pick(view), propensity: 1, explored: false }),
  };
}

/** Always `actionId` where eligible, otherwise the safe default (action 0). */
export function fixedChooser(actionId: string, catalogue: Catalogue): Chooser {
  const action = catalogue.findIndex((p) => p.id === actionId);
  if (action === -1) throw new RangeError(`"${actionId}" is not in the catalogue`);
  const scores = new Float64Array(catalogue.length);
  scores[action] = 1;
  return greedyChooser(actionId, () => scores);
}
