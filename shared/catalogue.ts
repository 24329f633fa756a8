import type { CampaignWindow } from "./campaign.ts";
import type { Context } from "./context.ts";

export const PROMOTION_KINDS = ["none", "percent_off", "fixed_off", "free_shipping", "bundle", "gift"] as const;
export type PromotionKind = (typeof PROMOTION_KINDS)[number];

/** What the promotion costs the shop, given the order it applies to. */
export type CostModel =
  | { type: "free" }
  | { type: "percent_of_order"; rate: number }
  | { type: "fixed"; amount: number }
  | { type: "percent_of_order_capped"; rate: number; cap: number };

/** A cap on what one promotion may cost per day (the day in `timeZone`); either limit may be absent. */
export interface DailyBudget {
  /** Most page views it may be shown on. */
  exposures?: number;
  /** Most it may cost the shop (promotionCost of its conversions), in shop currency. */
  spend?: number;
  timeZone: string;
}

export interface Eligibility {
  /** Cart value (shop currency) below which the promotion is never offered. */
  minCartValue?: number;
  /** ISO country codes where it may be shown; absent means everywhere. */
  countries?: readonly string[];
  /** Most times one visitor may be shown it within 7 days. */
  maxExposuresPerVisitor7d?: number;
  /** When it may be shown at all (shared/campaign.ts). */
  window?: CampaignWindow;
  /** How much of it the shop will give per day: enforced by the monitor's throttles (shared/budget.ts). */
  dailyBudget?: DailyBudget;
}

export interface PromotionDisplay {
  headline: string;
  body?: string;
  code?: string;
  badge?: string;
}

/**
 * What the promotion offers the visitor, as numbers a policy with promotion features can learn
 * from: two promotions with like attributes are expected to act alike, which is what lets such a
 * policy serve a promotion it never saw logged.
 */
export interface PromotionAttributes {
  /** Price cut in % of the order (0 for a fixed amount, shipping or a gift). */
  depthPct: number;
  /** Amount off or given, in shop currency (a gift's worth, the shipping fee waived). */
  fixedValue: number;
  /** Whether it waives shipping. */
  shipping: boolean;
  /** Expected order value relative to no promotion (a bundle adds a second item: 1.2). */
  basketUplift: number;
}

export interface Promotion {
  id: string;
  kind: PromotionKind;
  display: PromotionDisplay;
  cost: CostModel;
  attributes: PromotionAttributes;
  eligibility: Eligibility;
}

export type Catalogue = readonly Promotion[];

/**
 * The built-in catalogue: what the edge serves while KV holds none (operators publish their own with
 * `promo catalogue publish`, shared/catalogue-document.ts), and what the simulator's shop sells. Its
 * ids, in this order, are the action ids of a per-action policy trained on it.
 */
export const DEFAULT_CATALOGUE = [
  {
    id: "none",
    kind: "none",
    display: { headline: "" },
    cost: { type: "free" },
    attributes: { depthPct: 0, fixedValue: 0, shipping: false, basketUplift: 1 },
    eligibility: {},
  },
  {
    id: "pct10",
    kind: "percent_off",
    display: { headline: "10% off your order", code: "TAKE10", badge: "-10%" },
    cost: { type: "percent_of_order", rate: 0.1 },
    attributes: { depthPct: 10, fixedValue: 0, shipping: false, basketUplift: 1 },
    eligibility: {},
  },
  {
    id: "pct20",
    kind: "percent_off",
    display: { headline: "20% off orders over 60", code: "TAKE20", badge: "-20%" },
    cost: { type: "percent_of_order", rate: 0.2 },
    attributes: { depthPct: 20, fixedValue: 0, shipping: false, basketUplift: 1 },
    eligibility: { minCartValue: 60, maxExposuresPerVisitor7d: 3 },
  },
  {
    id: "fixed5",
    kind: "fixed_off",
    display: { headline: "5 off orders over 40", code: "FIVE", badge: "-5" },
    cost: { type: "fixed", amount: 5 },
    attributes: { depthPct: 0, fixedValue: 5, shipping: false, basketUplift: 1 },
    eligibility: { minCartValue: 40 },
  },
  {
    id: "free_shipping",
    kind: "free_shipping",
    display: { headline: "Free shipping today", badge: "Free delivery" },
    cost: { type: "fixed", amount: 6 },
    attributes: { depthPct: 0, fixedValue: 6, shipping: true, basketUplift: 1 },
    eligibility: { countries: ["US", "GB", "DE", "FR", "NL", "ES", "IT"] },
  },
  {
    id: "bundle",
    kind: "bundle",
    display: { headline: "Buy 2, get 15% off both", badge: "Bundle" },
    cost: { type: "percent_of_order_capped", rate: 0.15, cap: 30 },
    attributes: { depthPct: 15, fixedValue: 0, shipping: false, basketUplift: 1.2 },
    eligibility: { minCartValue: 30 },
  },
  {
    id: "gift",
    kind: "gift",
    display: { headline: "A free gift with orders over 80", badge: "Gift" },
    cost: { type: "fixed", amount: 4 },
    attributes: { depthPct: 0, fixedValue: 4, shipping: false, basketUplift: 1 },
    eligibility: { minCartValue: 80, maxExposuresPerVisitor7d: 2 },
  },
] as const satisfies Catalogue;

export const DEFAULT_ACTION_IDS: readonly string[] = DEFAULT_CATALOGUE.map((p) => p.id);

/**
 * What the edge serves while no policy is published: the operator's own control (what the shop did
 * before edge-promo), with a small share of page views explored so that the first training data
 * exists. `exploration` is the share drawn uniformly over the eligible promotions, the control
 * included; the rest get the control (or, where the control is not eligible, the first eligible
 * promotion of the catalogue).
 */
export interface ControlPolicy {
  action: string;
  exploration: number;
}

/**
 * Never promote, exploring 5% of page views. Exploration is not free. Measured on the simulator
 * (5 seeds × 10,000 visitors, paired against the control alone, in shares of the oracle's value):
 * 2% costs 0.004, 5% costs 0.014 [0.010, 0.018], 10% 0.023, 15% 0.036, and exploring everything
 * (the uniform fallback of old) 0.147. 5% keeps the cost near one hundredth while a shop logging a
 * million page views still explores 50,000 of them. `npm run bench` reports it as
 * `exploration_cost_ratio`.
 */
export const DEFAULT_CONTROL: ControlPolicy = { action: "none", exploration: 0.05 };

/** Throws a RangeError for a control the catalogue cannot serve. */
export function checkControl(control: ControlPolicy, catalogue: Catalogue): void {
  if (!catalogue.some((p) => p.id === control.action)) {
    throw new RangeError(`the control "${control.action}" is not a promotion of the catalogue`);
  }
  if (!(control.exploration >= 0 && control.exploration <= 1)) {
    throw new RangeError(`the control's exploration must be within [0, 1], got ${control.exploration}`);
  }
}

/** Expected cost to the shop of granting `promotion` on an order of `orderValue`. */
export function promotionCost(promotion: Promotion, orderValue: number): number {
  const cost = promotion.cost;
  switch (cost.type) {
    case "free":
      return 0;
    case "percent_of_order":
      return orderValue * cost.rate;
    case "fixed":
      return orderValue > 0 ? cost.amount : 0;
    case "percent_of_order_capped":
      return Math.min(orderValue * cost.rate, cost.cap);
  }
}

/** Exposures of each promotion to one visitor over the last 7 days, by promotion id. */
export type ExposureCounts = Readonly<Record<string, number>>;

export function isEligible(promotion: Promotion, context: Context, exposures: ExposureCounts): boolean {
  const rule = promotion.eligibility;
  if (rule.minCartValue !== undefined && context.cartValue < rule.minCartValue) return false;
  if (rule.countries !== undefined && !rule.countries.includes(context.country)) return false;
  if (rule.maxExposuresPerVisitor7d !== undefined && (exposures[promotion.id] ?? 0) >= rule.maxExposuresPerVisitor7d) {
    return false;
  }
  return true;
}

/**
 * Which actions may be chosen. `candidates`, when given, narrows the set further (the page may only
 * have room for some). The first promotion of the catalogue ("none") is the safe default and is always
 * eligible, so that the mask is never empty.
 */
export function eligibleMask(
  catalogue: Catalogue,
  context: Context,
  exposures: ExposureCounts,
  candidates?: readonly string[],
): Uint8Array {
  const mask = new Uint8Array(catalogue.length);
  catalogue.forEach((promotion, i) => {
    const allowed = candidates === undefined || candidates.includes(promotion.id);
    mask[i] = allowed && isEligible(promotion, context, exposures) ? 1 : 0;
  });
  mask[0] = 1;
  return mask;
}
