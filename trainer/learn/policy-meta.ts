import type { Exploration, PolicyMeta, TrainingSummary } from "../../shared/policy/types.ts";
import type { Dataset } from "../data/dataset.ts";

/**
 * Exploration a freshly trained policy ships with unless the operator says otherwise: mostly
 * greedy, but every eligible action keeps at least a 1% chance, so that the next batch of logs still
 * covers every action and off-policy estimates of the policy after this one stay bounded.
 */
export const DEFAULT_EXPLORATION: Exploration = { type: "epsilon", epsilon: 0.05, floor: 0.01 };

/** No exploration at all: the policy's own choices, for scoring what it has learned. */
export const GREEDY_EXPLORATION: Exploration = { type: "epsilon", epsilon: 0, floor: 0 };

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
