import { promotionCost, type Catalogue } from "./catalogue.ts";
import type { OutcomeKind } from "./schema.ts";

/**
 * How outcomes become one number per decision. Margin, not revenue: a discount that wins an order
 * but gives away more than the order earns is a loss, and the learner must see it as one.
 */
export interface RewardSpec {
  /** Value of a click, in shop currency (the attention it buys). */
  clickValue: number;
  /** Fraction of an order's value the shop keeps as margin before promotion costs. */
  marginRate: number;
  /** Fraction of a refunded amount charged back against the decision (margin lost plus handling). */
  refundRate: number;
}

export const DEFAULT_REWARD_SPEC: RewardSpec = { clickValue: 0.05, marginRate: 0.4, refundRate: 0.5 };

export interface AttributedOutcome {
  kind: OutcomeKind;
  value: number;
}

/**
 * Reward of one decision from the outcomes attributed to it: click value, plus the margin of each
 * conversion less the cost of the promotion on that order, less refunds.
 */
export function rewardOf(
  outcomes: readonly AttributedOutcome[],
  actionIndex: number,
  catalogue: Catalogue,
  spec: RewardSpec,
): number {
  const promotion = catalogue[actionIndex];
  if (!promotion) throw new RangeError(`action ${actionIndex} is not in the catalogue`);
  let reward = 0;
  for (const outcome of outcomes) {
    switch (outcome.kind) {
      case "click":
        reward += spec.clickValue;
        break;
      case "conversion":
        reward += spec.marginRate * outcome.value - promotionCost(promotion, outcome.value);
        break;
      case "refund":
        reward -= spec.refundRate * outcome.value;
        break;
    }
  }
  return reward;
}
