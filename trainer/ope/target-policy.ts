import type { ControlPolicy } from "../../shared/catalogue.ts";
import { controlRule } from "../../shared/decide.ts";
import { actionProbabilities } from "../../shared/policy/explore.ts";
import { compileInference } from "../../shared/policy/infer.ts";
import type { Policy } from "../../shared/policy/types.ts";
import type { LoggedState } from "../data/dataset.ts";

/** A policy to evaluate offline: its action probabilities in a logged state (0 for ineligible actions). */
export interface TargetPolicy {
  name: string;
  probabilities(state: LoggedState): Float64Array;
}

/** Q-values of every action in a logged state (a trained Q, or a fitted one-step reward model). */
export type QModel = (state: LoggedState) => Float32Array;

/** The policy exactly as the edge would run it: shared inference, then its exploration rule. */
export function policyAsTarget(policy: Policy, name = policy.meta.version): TargetPolicy {
  const q = compileInference(policy.model);
  return {
    name,
    probabilities: (state) =>
      actionProbabilities(q(state.features, state.stateKey), state.eligible, policy.meta.exploration),
  };
}

export function policyAsQModel(policy: Policy): QModel {
  const q = compileInference(policy.model);
  return (state) => Float32Array.from(q(state.features, state.stateKey));
}

/** What the edge serves with no policy published: the control, exploring its share, as the edge computes it. */
export function controlTarget(control: ControlPolicy, actions: readonly string[]): TargetPolicy {
  const { q, exploration } = controlRule(control, actions);
  return {
    name: `fallback (control "${control.action}", exploring ${control.exploration})`,
    probabilities: (state) => actionProbabilities(q, state.eligible, exploration),
  };
}

export function uniformTarget(): TargetPolicy {
  return {
    name: "uniform",
    probabilities(state) {
      const p = new Float64Array(state.eligible.length);
      const n = state.eligible.reduce((a, b) => a + b, 0);
      state.eligible.forEach((e, i) => (p[i] = e ? 1 / n : 0));
      return p;
    },
  };
}

/** Always the given action when eligible; otherwise the safe default, action 0 ("none"). */
export function fixedActionTarget(action: number, name: string): TargetPolicy {
  return {
    name,
    probabilities(state) {
      const p = new Float64Array(state.eligible.length);
      p[state.eligible[action] ? action : 0] = 1;
      return p;
    },
  };
}
