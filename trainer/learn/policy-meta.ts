import { DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import type { Exploration, Policy, PolicyMeta, TrainingSummary } from "../../shared/policy/types.ts";
import type { Dataset } from "../data/dataset.ts";

/**
 * Exploration a freshly trained policy ships with unless the operator says otherwise: the control's
 * own share, spread over the eligible promotions around the policy's choice, so that a published
 * policy explores exactly as the fallback did and the next round's logs cover every promotion.
 */
export const DEFAULT_EXPLORATION: Exploration = { type: "epsilon", epsilon: DEFAULT_CONTROL.exploration, floor: 0 };

/** No exploration at all: the policy's own choices, for scoring what it has learned. */
export const GREEDY_EXPLORATION: Exploration = { type: "epsilon", epsilon: 0, floor: 0 };

/** The same policy, shipped with another exploration rule (e.g. {@link GREEDY_EXPLORATION}, to score its choices). */
export function withExploration(policy: Policy, exploration: Exploration): Policy {
  return { ...policy, meta: { ...policy.meta, exploration } };
}

export interface PolicyMetaOptions {
  version: string;
  exploration?: Exploration;
  createdAt?: Date;
  training?: TrainingSummary | null;
}

/** The header of a policy trained on `dataset`: its action ids and feature spec are the data's. */
export function policyMeta(
  dataset: Pick<Dataset, "actions" | "featureSpecHash">,
  options: PolicyMetaOptions,
): PolicyMeta {
  return {
    version: options.version,
    featureSpecHash: dataset.featureSpecHash,
    actions: [...dataset.actions],
    exploration: options.exploration ?? DEFAULT_EXPLORATION,
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    training: options.training ?? null,
  };
}
