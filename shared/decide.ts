import {
  checkControl,
  DEFAULT_CONTROL,
  eligibleMask,
  type Catalogue,
  type ControlPolicy,
  type ExposureCounts,
  type Promotion,
} from "./catalogue.ts";
import { DEFAULT_NEW_PROMOTION_EXPLORATION, type NewPromotionExploration } from "./catalogue-document.ts";
import type { Context } from "./context.ts";
import { encodeFeaturesInto, stateKey, type CompiledFeatureSpec } from "./features.ts";
import { actionProbabilities, choose, decisionUniform, type Choice, type NewPromotionBoost } from "./policy/explore.ts";
import { PolicyFormatError } from "./policy/format.ts";
import { compileInference, type QFunction } from "./policy/infer.ts";
import type { Exploration, FeaturesModel, Policy } from "./policy/types.ts";
import { encodePromotion, PROMOTION_ENCODING, PROMOTION_FEATURE_WIDTH } from "./promotion-features.ts";

export const FALLBACK_VERSION = "fallback";

export interface Decision {
  /** Who decided: the policy's version, or "fallback" when the control did (no policy, or a fault). */
  policyVersion: string;
  /**
   * Why the policy's own choice was not served (it gave no eligible action with a valid
   * probability: non-finite Q-values), so the control decided instead; null when all was well.
   */
  fault: string | null;
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
  /** The policy's exploration; with no policy, the control's. */
  exploration: Exploration;
  /** With no policy, the control it serves; null when a policy decides. */
  control: ControlPolicy | null;
  /**
   * Catalogue promotions (ids) that a features policy knows only by their attributes, and so
   * explores more (see NewPromotionExploration); empty for every other engine.
   */
  newPromotions: readonly string[];
  /**
   * Every action's probability at this context under this eligibility mask: what `decide` draws
   * from. Like `decide`, it reuses the engine's feature buffer.
   */
  probabilities(context: Context, eligible: Uint8Array): Float64Array;
  decide(context: Context, exposures: ExposureCounts, decisionId: string, candidates?: readonly string[]): Decision;
}

/**
 * The whole per-request decision, as a pure function of its inputs: features, eligibility,
 * Q-values, exploration. The edge and the simulator both call this, so what the simulator
 * measures is what the Worker does. With no policy it serves `control`, exploring its share.
 *
 * Throws {@link PolicyFormatError} (`spec_mismatch`, `action_mismatch`, `shape_mismatch`) when the
 * policy was not built for this feature spec and catalogue. A features policy fits any catalogue:
 * it scores each promotion by its attributes, and explores the ones it barely saw (`newPromotions`).
 */
export function createDecisionEngine(
  policy: Policy | null,
  catalogue: Catalogue,
  spec: CompiledFeatureSpec,
  control: ControlPolicy = DEFAULT_CONTROL,
  newPromotions: NewPromotionExploration = DEFAULT_NEW_PROMOTION_EXPLORATION,
): DecisionEngine {
  if (policy) checkPolicyFits(policy, catalogue, spec);
  const fallback = controlAsPolicy(control, catalogue);
  const featuresModel = policy?.model.algorithm === "features" ? policy.model : null;
  const encoded = featuresModel ? catalogue.map(encodePromotion) : undefined;
  const { qOf, exploration } = policy
    ? { qOf: compileInference(policy.model, encoded), exploration: policy.meta.exploration }
    : fallback;
  const boost = featuresModel ? newPromotionBoost(featuresModel, catalogue, encoded!, newPromotions) : undefined;
  const version = policy ? policy.meta.version : FALLBACK_VERSION;
  const features = new Float32Array(spec.width);
  const scratch = new Float64Array(catalogue.length);

  return {
    version,
    policy,
    exploration,
    control: policy ? null : control,
    newPromotions: boost ? catalogue.filter((_, i) => boost.promotions[i] === 1).map((p) => p.id) : [],
    probabilities(context, eligible) {
      encodeFeaturesInto(spec, context, features);
      return actionProbabilities(qOf(features, stateKey(spec, context)), eligible, exploration, undefined, boost);
    },
    decide(context, exposures, decisionId, candidates) {
      encodeFeaturesInto(spec, context, features);
      const key = stateKey(spec, context);
      const eligible = eligibleMask(catalogue, context, exposures, candidates);
      const u = decisionUniform(decisionId);
      let choice = choose(qOf(features, key), eligible, u, exploration, scratch, boost);
      let fault: string | null = null;
      if (!isServable(choice, eligible)) {
        // A decoded policy has finite weights, but a network can still overflow to ±Infinity and
        // NaN: never serve (or log) an action the mask forbids or a propensity that is no probability.
        fault = `policy ${version} gave no eligible action with a valid probability (action ${choice.action}, propensity ${choice.propensity}); the control decided`;
        choice = choose(fallback.qOf(features, key), eligible, u, fallback.exploration, scratch);
      }
      return {
        policyVersion: fault === null ? version : FALLBACK_VERSION,
        fault,
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
 * The control as a Q-function, 1 for its action and 0 elsewhere, with ε-greedy exploration: the
 * fallback then serves the control and explores around it with exact propensities, through the
 * same code as a learned policy. The trainer evaluates the fallback offline with the same rule.
 */
export function controlRule(
  control: ControlPolicy,
  actionIds: readonly string[],
): { q: Float32Array; exploration: Exploration } {
  const at = actionIds.indexOf(control.action);
  if (at === -1) throw new RangeError(`the control "${control.action}" is not one of the actions [${actionIds}]`);
  const q = new Float32Array(actionIds.length);
  q[at] = 1;
  return { q, exploration: { type: "epsilon", epsilon: control.exploration, floor: 0 } };
}

/**
 * A promotion is new to a features policy unless the policy was trained with a promotion of the
 * same id and the same encoded attributes (an edited promotion is a new one) that the logs showed
 * at least `untilDecisions` times.
 */
function newPromotionBoost(
  model: FeaturesModel,
  catalogue: Catalogue,
  encoded: readonly Float32Array[],
  settings: NewPromotionExploration,
): NewPromotionBoost | undefined {
  const promotions = new Uint8Array(catalogue.length);
  catalogue.forEach((promotion, i) => {
    const trained = model.promotions.find((p) => p.id === promotion.id);
    const known =
      trained !== undefined &&
      trained.decisions >= settings.untilDecisions &&
      trained.features.every((x, k) => x === encoded[i]![k]);
    promotions[i] = known ? 0 : 1;
  });
  return promotions.some((flag) => flag === 1) ? { promotions, share: settings.share } : undefined;
}

function isServable(choice: Choice, eligible: Uint8Array): boolean {
  return eligible[choice.action] === 1 && choice.propensity > 0 && choice.propensity <= 1;
}

function controlAsPolicy(control: ControlPolicy, catalogue: Catalogue): { qOf: QFunction; exploration: Exploration } {
  checkControl(control, catalogue);
  const { q, exploration } = controlRule(
    control,
    catalogue.map((p) => p.id),
  );
  return { qOf: () => q, exploration };
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
  if (model.algorithm === "features") {
    checkFeaturesModelFits(model, spec);
    return;
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

function checkFeaturesModelFits(model: FeaturesModel, spec: CompiledFeatureSpec): void {
  if (model.promotionEncoding !== PROMOTION_ENCODING) {
    throw new PolicyFormatError(
      "spec_mismatch",
      `policy encodes promotions as ${model.promotionEncoding}, this side as ${PROMOTION_ENCODING}`,
    );
  }
  const visitorInputs = model.visitor[0]?.inputs;
  const promotionInputs = model.promotion[0]?.inputs;
  if (visitorInputs !== spec.width || promotionInputs !== PROMOTION_FEATURE_WIDTH) {
    throw new PolicyFormatError(
      "shape_mismatch",
      `towers of ${visitorInputs} visitor and ${promotionInputs} promotion inputs do not fit ${spec.width} visitor and ${PROMOTION_FEATURE_WIDTH} promotion features`,
    );
  }
}
