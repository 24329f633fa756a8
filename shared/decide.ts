import { eligibleMask, type Catalogue, type ExposureCounts, type Promotion } from "./catalogue.ts";
import type { Context } from "./context.ts";
import { encodeFeaturesInto, stateKey, type CompiledFeatureSpec } from "./features.ts";
import { choose, decisionUniform, UNIFORM_EXPLORATION } from "./policy/explore.ts";
import { PolicyFormatError } from "./policy/format.ts";
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
 *
 * Throws {@link PolicyFormatError} (`spec_mismatch`, `action_mismatch`, `shape_mismatch`) when the
 * policy was not built for this feature spec and catalogue.
 */
export function createDecisionEngine(
  policy: Policy | null,
  catalogue: Catalogue,
  spec: CompiledFeatureSpec,
): DecisionEngine {
  if (policy) checkPolicyFits(policy, catalogue, spec);
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

/**
 * Refuses a policy that does not fit this catalogue and feature spec: served anyway, it would pick
 * the wrong promotions or read garbage (NaN Q-values, hence NaN propensities) without any error.
 */
function checkPolicyFits(policy: Policy, catalogue: Catalogue, spec: CompiledFeatureSpec): void {
  const { meta, model } = policy;
  if (meta.featureSpecHash !== spec.hash) {
    throw new PolicyFormatError(
      "spec_mismatch",
      `policy was trained on feature spec ${meta.featureSpecHash}, this side runs ${spec.hash}`,
    );
  }
  const ids = catalogue.map((p) => p.id);
  if (meta.actions.length !== ids.length || meta.actions.some((a, i) => a !== ids[i])) {
    throw new PolicyFormatError(
      "action_mismatch",
      `policy actions [${meta.actions}] differ from the catalogue [${ids}]`,
    );
  }
  if (model.algorithm === "qtable") {
    if (model.stateCount !== spec.stateCount || model.q.length !== spec.stateCount * ids.length) {
      throw new PolicyFormatError(
        "shape_mismatch",
        `a qtable of ${model.q.length} values over ${model.stateCount} states does not fit ${spec.stateCount} states × ${ids.length} actions`,
      );
    }
  } else {
    const first = model.layers[0];
    const last = model.layers.at(-1);
    if (!first || !last || first.inputs !== spec.width || last.outputs !== ids.length) {
      throw new PolicyFormatError(
        "shape_mismatch",
        `a network of ${first?.inputs} inputs and ${last?.outputs} outputs does not fit ${spec.width} features × ${ids.length} actions`,
      );
    }
  }
}
