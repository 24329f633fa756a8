import type { LoggedState } from "../data/dataset.ts";
import type { QModel, TargetPolicy } from "./target-policy.ts";

/**
 * The same policy, computing π(·|x) once per logged state: a comparison asks for it from several
 * estimators, and a DQN forward pass per ask would dominate the cost. Callers must not mutate the
 * arrays it returns.
 */
export function memoisedTarget(target: TargetPolicy): TargetPolicy {
  const cache = new WeakMap<LoggedState, Float64Array>();
  return {
    name: target.name,
    probabilities(state) {
      let p = cache.get(state);
      if (!p) cache.set(state, (p = target.probabilities(state)));
      return p;
    },
  };
}

/** The same model, predicting once per logged state; callers must not mutate the arrays it returns. */
export function memoisedQModel(model: QModel): QModel {
  const cache = new WeakMap<LoggedState, Float32Array>();
  return (state) => {
    let q = cache.get(state);
    if (!q) cache.set(state, (q = model(state)));
    return q;
  };
}
