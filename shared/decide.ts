import { eligibleMask, type Catalogue, type ExposureCounts, type Promotion } from "./catalogue.ts";
import type { Context } from "./context.ts";
import { encodeFeaturesInto, stateKey, type CompiledFeatureSpec } from "./features.ts";
import { choose, decisionUniform, UNIFORM_EXPLORATION } from "./policy/explore.ts";
import { compileInference, type QFunction } from "./policy/infer.ts";
import type { Exploration, Policy } from "./policy/types.ts";

export const FALLBACK_VERSION = "fallback";

export interface Decision {
  promotion: Promotion;
  actionIndex: number;
  propensity: number;
  explored: boolean;
  stateKey: number;
  /** The feature vector. Reused by the next decision of the same engine: copy it to keep it. */
  features: Float32Array;
  eligible: Uint8Array;
}

export interface DecisionEngine {
  /** The policy version, or "fallback" when no policy is loaded. */
  version: string;
  policy: Policy | null;
  decide(context: Context, exposures: ExposureCounts, decisionId: string, candidates?: readonly string[]): Decision;
}

/**
 * The whole per-request decision, as a pure function of its inputs: features, eligibility,
 * Q-values, exploration. The edge and the simulator both call this, so what the simulator
 * measures is what the Worker does. With no policy it is uniform over the eligible actions.
 */
export function createDecisionEngine(policy: Policy | null, catalogue: Catalogue, spec: CompiledFeatureSpec): DecisionEngine {
  const features = new Float32Array(spec.width);
  const scratch = new Float64Array(catalogue.length);
  const zeros = new Float32Array(catalogue.length);
  const qOf: QFunction = policy ? compileInference(policy.model) : () => zeros;
  const exploration: Exploration = policy ? policy.meta.exploration : UNIFORM_EXPLORATION;

  return {
    version: policy ? policy.meta.version : FALLBACK_VERSION,
    policy,
    decide(context, exposures, decisionId, candidates) {
      encodeFeaturesInto(spec, context, features);
      const key = stateKey(spec, context);
      const eligible = eligibleMask(catalogue, context, exposures, candidates);
      const choice = choose(qOf(features, key), eligible, decisionUniform(decisionId), exploration, scratch);
      return {
        promotion: catalogue[choice.action]!,
        actionIndex: choice.action,
        propensity: choice.propensity,
        explored: choice.explored,
        stateKey: key,
        features,
        eligible,
      };
    },
  };
}
