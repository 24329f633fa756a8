import { DEFAULT_ACTION_IDS } from "../../../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../../../shared/features.ts";
import type { Exploration, Policy, TrainingSummary } from "../../../shared/policy/types.ts";

/** A Q-table over the default spec that prefers `favourite` in every state (greedy unless told otherwise). */
export function favouringPolicy(
  version: string,
  favourite: string,
  options: { training?: TrainingSummary | null; exploration?: Exploration } = {},
): Policy {
  const actions = [...DEFAULT_ACTION_IDS];
  const column = actions.indexOf(favourite);
  if (column === -1) throw new Error(`${favourite} is not in the catalogue`);
  const q = new Float32Array(DEFAULT_COMPILED_SPEC.stateCount * actions.length);
  for (let s = 0; s < DEFAULT_COMPILED_SPEC.stateCount; s++) q[s * actions.length + column] = 1;
  return {
    meta: {
      version,
      featureSpecHash: DEFAULT_COMPILED_SPEC.hash,
      actions,
      exploration: options.exploration ?? { type: "epsilon", epsilon: 0, floor: 0 },
      createdAt: "2026-11-01T00:00:00.000Z",
      training: options.training ?? null,
    },
    model: { algorithm: "qtable", stateCount: DEFAULT_COMPILED_SPEC.stateCount, q },
  };
}
