import { PROMOTION_KINDS, type CostModel, type Promotion } from "./catalogue.ts";

/**
 * How a promotion becomes the input of a policy's promotion tower. The name goes in the policy
 * header: an edge refuses a policy whose promotions were encoded another way, because the same
 * numbers would then mean different things.
 */
export const PROMOTION_ENCODING = "edge-promo/promotion-v1";

/** Money is log-scaled so that 5 and 50 differ as much as 50 and 500 do, and stays near [0, 1]. */
const money = (amount: number) => Math.log1p(Math.max(0, amount)) / 5;

function costParameters(cost: CostModel): [rate: number, amount: number, cap: number] {
  switch (cost.type) {
    case "free":
      return [0, 0, 0];
    case "percent_of_order":
      return [cost.rate, 0, 0];
    case "fixed":
      return [0, money(cost.amount), 0];
    case "percent_of_order_capped":
      return [cost.rate, 0, money(cost.cap)];
  }
}

export const PROMOTION_FEATURE_NAMES: readonly string[] = [
  ...PROMOTION_KINDS.map((kind) => `kind=${kind}`),
  "depthPct",
  "fixedValue",
  "shipping",
  "basketUplift",
  "cost:rate",
  "cost:amount",
  "cost:cap",
];
export const PROMOTION_FEATURE_WIDTH = PROMOTION_FEATURE_NAMES.length;

/** The promotion's feature vector: kind one-hot, what it offers, and what it costs the shop. */
export function encodePromotion(promotion: Pick<Promotion, "kind" | "attributes" | "cost">): Float32Array {
  const out = new Float32Array(PROMOTION_FEATURE_WIDTH);
  out[PROMOTION_KINDS.indexOf(promotion.kind)] = 1;
  const { depthPct, fixedValue, shipping, basketUplift } = promotion.attributes;
  out.set(
    [depthPct / 100, money(fixedValue), shipping ? 1 : 0, basketUplift - 1, ...costParameters(promotion.cost)],
    PROMOTION_KINDS.length,
  );
  return out;
}
