import { DEFAULT_ACTION_IDS } from "../../../shared/catalogue.ts";
import type { Context } from "../../../shared/context.ts";
import { DEFAULT_COMPILED_SPEC as spec, stateKey } from "../../../shared/features.ts";
import { createRng } from "../../../shared/rng.ts";
import type { Dataset, LoggedState, Step } from "../../../trainer/data/dataset.ts";
import { BASE_CONTEXT } from "../../shared/helpers.ts";
import { gaussian } from "../ope-fixtures.ts";

export const ACTIONS = DEFAULT_ACTION_IDS;
export const BUNDLE = ACTIONS.indexOf("bundle");
/** A first-time visitor with a cart big enough for every promotion, who has seen none lately. */
const BASE: Context = {
  ...BASE_CONTEXT,
  cartValue: 100,
  visits: 1,
  daysSinceLastVisit: null,
  purchases: 0,
  daysSinceLastPurchase: null,
  promosSeen7d: 0,
  lastPromotion: null,
};
/** A: where the bundle truly pays; B: elsewhere in every pooled group (other cart and referrer); C: A, after a promotion. */
export const KEYS = {
  A: stateKey(spec, BASE),
  B: stateKey(spec, { ...BASE, referrer: "social", cartValue: 50 }),
  C: stateKey(spec, { ...BASE, promosSeen7d: 1, lastPromotion: "pct10" }),
};

/** Uniform logging over every action at the given keys; `effect(key, action)` is added to N(0, sd²) rewards. */
export function uniformLogs(
  rowsPerKey: number,
  effect: (key: number, action: number) => number,
  sd: number,
  seed = 1,
): Dataset {
  const rng = createRng(seed);
  const states: LoggedState[] = [];
  const steps: Step[] = [];
  for (const key of Object.values(KEYS)) {
    for (let i = 0; i < rowsPerKey; i++) {
      const action = Math.floor(rng() * ACTIONS.length);
      const index = states.length;
      states.push({
        stateKey: key,
        eligible: new Uint8Array(ACTIONS.length).fill(1),
        features: new Float32Array(spec.width),
      });
      steps.push({
        state: index,
        action,
        propensity: 1 / ACTIONS.length,
        reward: effect(key, action) + sd * gaussian(rng),
        next: -1,
        visitor: `v${index}`,
        ts: index,
        decisionId: `d${index}`,
      });
    }
  }
  return {
    actions: ACTIONS,
    featureSpecHash: spec.hash,
    featureWidth: spec.width,
    stateCount: spec.stateCount,
    slotNames: spec.slotNames,
    states,
    steps,
    heldBack: 0,
    skipped: {},
    window: { from: 0, to: steps.length },
  };
}
