import { DEFAULT_CONTROL, type Catalogue, type ControlPolicy, type ExposureCounts } from "../../shared/catalogue.ts";
import type { Context } from "../../shared/context.ts";
import { createDecisionEngine, type DecisionEngine } from "../../shared/decide.ts";
import type { CompiledFeatureSpec } from "../../shared/features.ts";
import { greedyAction, type Choice } from "../../shared/policy/explore.ts";
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
export function engineChooser(engine: DecisionEngine, name = engine.version): Chooser {
  return {
    name,
    probabilities: (view) => engine.probabilities(view.context, view.eligible),
    choose(view) {
      const decision = engine.decide(view.context, view.exposures, view.decisionId);
      return { action: decision.actionIndex, propensity: decision.propensity, explored: decision.explored };
    },
  };
}

/** A policy file (or none: the edge's fallback, the control with exploration) run exactly as the edge runs it. */
export function policyChooser(
  policy: Policy | null,
  catalogue: Catalogue,
  spec: CompiledFeatureSpec,
  name?: string,
  control: ControlPolicy = DEFAULT_CONTROL,
): Chooser {
  return engineChooser(createDecisionEngine(policy, catalogue, spec, control), name);
}

/** Uniform over the eligible actions: what the edge's fallback was before it served a control. */
export function uniformChooser(catalogue: Catalogue, spec: CompiledFeatureSpec): Chooser {
  return policyChooser(null, catalogue, spec, "uniform", { action: catalogue[0]!.id, exploration: 1 });
}

/** The edge's fallback: the control, exploring the given share of page views. */
export function controlChooser(catalogue: Catalogue, spec: CompiledFeatureSpec, control = DEFAULT_CONTROL): Chooser {
  const name = control.exploration > 0 ? "control-explore" : `control (${control.action})`;
  return policyChooser(null, catalogue, spec, name, control);
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
