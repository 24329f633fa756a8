import { eligibleMask } from "../../shared/catalogue.ts";
import { NEW_VISITOR, type Context } from "../../shared/context.ts";
import {
  conditioningProbability,
  fatigueProbability,
  loyaltyUp,
  ORDER,
  ORDER_OUTCOMES,
  returnProbability,
  visitBreakMoves,
  type LatentState,
  type OrderOutcome,
} from "./latent.ts";
import type { SimModel } from "./model.ts";
import { orderProbabilities, respond, type ResponseContext } from "./response.ts";
import { compileTraffic, pageSupport } from "./traffic.ts";

/**
 * The numerical core of value iteration over the latent state (see oracle.ts for what it solves).
 * Everything that does not change between sweeps is tabulated once in flat typed arrays, because a
 * sweep visits every (state, page view, action) and must take milliseconds, not seconds.
 */

/** Which action a sweep backs up at each (state, page view). */
export type LatentRule =
  /** The best action for the discounted long term: value iteration proper (the oracle). */
  | { kind: "plan" }
  /** The action with the highest expected reward today (full information, no foresight). */
  | { kind: "myopic" }
  /** One action wherever it is eligible, the default (action 0) elsewhere. */
  | { kind: "fixed"; action: number };

const OUTCOMES = ORDER_OUTCOMES.length;

/**
 * Latent states are indexed segment × country class × reference × fatigue × loyalty (loyalty fastest).
 * Country classes group the countries that allow the same promotions: the only way country matters.
 */
export interface LatentSpace {
  size: number;
  actions: number;
  segments: number;
  classes: readonly { probability: number; representative: string }[];
  /** Index step of one reference level. */
  referenceStride: number;
  classOf(country: string): number;
  index(segment: number, cls: number, reference: number, fatigue: number, loyalty: number): number;
}

export function latentSpace(model: SimModel): LatentSpace {
  const { reference: R, fatigue: F, loyalty: L } = model.levels;
  const classes: { probability: number; representative: string }[] = [];
  const byMask = new Map<string, number>();
  const maskOf = (country: string) =>
    eligibleMask(model.catalogue, probeContext({ page: "product", cartValue: 1e6 }, country), {}).join("");
  const total = model.countries.reduce((a, c) => a + c.weight, 0);
  for (const country of model.countries) {
    const mask = maskOf(country.code);
    let c = byMask.get(mask);
    if (c === undefined) {
      c = classes.length;
      byMask.set(mask, c);
      classes.push({ probability: 0, representative: country.code });
    }
    classes[c]!.probability += country.weight / total;
  }
  const C = classes.length;
  return {
    size: model.segments.length * C * R * F * L,
    actions: model.catalogue.length,
    segments: model.segments.length,
    classes,
    referenceStride: F * L,
    classOf(country) {
      const c = byMask.get(maskOf(country));
      if (c === undefined)
        throw new RangeError(`country ${country} allows a set of promotions that no simulated country has`);
      return c;
    },
    index: (g, c, r, f, l) => (((g * C + c) * R + r) * F + f) * L + l,
  };
}

/** A context with only the fields eligibility reads set; the visitor half is a new visitor's (no exposures). */
function probeContext(view: ResponseContext, country: string): Context {
  return { device: "desktop", country, localHour: 12, weekday: 1, referrer: "direct", ...view, ...NEW_VISITOR };
}

/** What a backup needs of one (state, page view, action): expected reward, order outcomes, conditioning. */
export interface ResponseCell {
  reward: number;
  /** Probability of each order outcome, by {@link ORDER}. */
  order: Float64Array;
  /** Probability that the reference rises, by order outcome. */
  referenceUp: Float64Array;
}

export function responseCell(model: SimModel, state: LatentState, view: ResponseContext, action: number): ResponseCell {
  const response = respond(model, state, view, action);
  const up = (o: OrderOutcome) => conditioningProbability(model, state.segment, state.reference, response.depth, o);
  return {
    reward: response.expectedReward,
    order: Float64Array.from(orderProbabilities(response)),
    referenceUp: Float64Array.of(up(ORDER.none), up(ORDER.kept), up(ORDER.refunded)),
  };
}

/**
 * One segment's page views and their responses, tabulated. Responses depend on (reference, fatigue,
 * page view, action) but not on loyalty or country; eligibility (caps relaxed) on (class, page view).
 */
interface SegmentTable {
  views: number;
  probability: Float64Array;
  /** [class][view][action] */
  eligible: Uint8Array;
  /** Per cell [reference][fatigue][view][action]: */
  reward: Float64Array;
  /** [cell * 3 + outcome] */
  order: Float64Array;
  referenceUp: Float64Array;
}

export function segmentTables(model: SimModel, space: LatentSpace): SegmentTable[] {
  const traffic = compileTraffic(model);
  const { reference: R, fatigue: F } = model.levels;
  const A = space.actions;
  return model.segments.map((_, g) => {
    const support = pageSupport(traffic, g);
    const K = support.length;
    const eligible = new Uint8Array(space.classes.length * K * A);
    space.classes.forEach((cls, c) =>
      support.forEach((view, k) =>
        eligible.set(eligibleMask(model.catalogue, probeContext(view, cls.representative), {}), (c * K + k) * A),
      ),
    );
    const cells = R * F * K * A;
    const table: SegmentTable = {
      views: K,
      probability: Float64Array.from(support, (v) => v.probability),
      eligible,
      reward: new Float64Array(cells),
      order: new Float64Array(cells * OUTCOMES),
      referenceUp: new Float64Array(cells * OUTCOMES),
    };
    for (let r = 0; r < R; r++) {
      for (let f = 0; f < F; f++) {
        support.forEach((view, k) => {
          for (let a = 0; a < A; a++) {
            const i = ((r * F + f) * K + k) * A + a;
            const cell = responseCell(model, { segment: g, reference: r, fatigue: f, loyalty: 0 }, view, a);
            table.reward[i] = cell.reward;
            table.order.set(cell.order, i * OUTCOMES);
            table.referenceUp.set(cell.referenceUp, i * OUTCOMES);
          }
        });
      }
    }
    return table;
  });
}

/**
 * W(x') = E[value of the visitor's next page view | state x' after this one]: the visit goes on
 * (stay), or it ends and the visitor comes back (return, which depends on x') after the between-visit
 * fading. Churn contributes 0.
 */
function nextPageViewValues(model: SimModel, space: LatentSpace, values: Float64Array): Float64Array {
  const { reference: R, fatigue: F, loyalty: L } = model.levels;
  const next = new Float64Array(space.size);
  for (let g = 0; g < space.segments; g++) {
    const stay = model.segments[g]!.stay;
    for (let c = 0; c < space.classes.length; c++) {
      for (let r = 0; r < R; r++) {
        for (let f = 0; f < F; f++) {
          for (let l = 0; l < L; l++) {
            const s = space.index(g, c, r, f, l);
            const { referenceDown: pr, fatigueDown: pf } = visitBreakMoves(model, {
              segment: g,
              reference: r,
              fatigue: f,
              loyalty: l,
            });
            const faded =
              (1 - pr) * (1 - pf) * values[s]! +
              (pr > 0 ? pr * (1 - pf) * values[s - space.referenceStride]! : 0) +
              (pf > 0 ? (1 - pr) * pf * values[s - L]! : 0) +
              (pr > 0 && pf > 0 ? pr * pf * values[s - space.referenceStride - L]! : 0);
            next[s] = stay * values[s]! + (1 - stay) * returnProbability(model, g, f, l) * faded;
          }
        }
      }
    }
  }
  return next;
}

/**
 * For each (state x, action, order outcome): E[W(x')] over the fatigue and loyalty moves, with x'
 * keeping x's reference. Those moves do not depend on the page view; the reference move, which does
 * (through the price cut's depth), is applied on top by {@link lookahead}.
 */
export function continuationTable(model: SimModel, space: LatentSpace, values: Float64Array): Float64Array {
  const { reference: R, fatigue: F, loyalty: L } = model.levels;
  const A = space.actions;
  const table = new Float64Array(space.size * A * OUTCOMES);
  const w = nextPageViewValues(model, space, values);
  for (let g = 0; g < space.segments; g++) {
    for (let c = 0; c < space.classes.length; c++) {
      for (let r = 0; r < R; r++) {
        for (let f = 0; f < F; f++) {
          for (let a = 0; a < A; a++) {
            const tired = fatigueProbability(model, f, a);
            for (let l = 0; l < L; l++) {
              for (const o of ORDER_OUTCOMES) {
                // Loyalty either rises for sure or stays; fatigue rises with probability `tired`.
                const s2 = space.index(g, c, r, f, l + loyaltyUp(model, l, o));
                table[(space.index(g, c, r, f, l) * A + a) * OUTCOMES + o] =
                  (1 - tired) * w[s2]! + (tired > 0 ? tired * w[s2 + L]! : 0);
              }
            }
          }
        }
      }
    }
  }
  return table;
}

/**
 * Σ_o p(o) · [ p(up | o)·T(r+1) + (1 − p(up | o))·T(r) ], T = the continuation table at
 * (state, action, o). `i` indexes the cell arrays (three entries per cell).
 */
export function lookahead(
  continuation: Float64Array,
  state: number,
  referenceStride: number,
  action: number,
  actions: number,
  order: Float64Array,
  referenceUp: Float64Array,
  i: number,
): number {
  const base = state * actions + action;
  const upBase = (state + referenceStride) * actions + action;
  let total = 0;
  for (let o = 0; o < OUTCOMES; o++) {
    const p = order[i + o]!;
    if (p === 0) continue;
    const up = referenceUp[i + o]!;
    let v = (1 - up) * continuation[base * OUTCOMES + o]!;
    if (up > 0) v += up * continuation[upBase * OUTCOMES + o]!;
    total += p * v;
  }
  return total;
}

/** One synchronous sweep: the new value of every state under `rule`, given the continuation table. */
export function sweep(
  model: SimModel,
  space: LatentSpace,
  tables: readonly SegmentTable[],
  continuation: Float64Array,
  gamma: number,
  rule: LatentRule,
): Float64Array {
  const { reference: R, fatigue: F, loyalty: L } = model.levels;
  const A = space.actions;
  const next = new Float64Array(space.size);
  const stride = space.referenceStride;
  const ruleCode = rule.kind === "plan" ? 0 : rule.kind === "myopic" ? 1 : 2;
  const fixed = rule.kind === "fixed" ? rule.action : -1;
  for (let g = 0; g < space.segments; g++) {
    const t = tables[g]!;
    const { views: K, eligible, reward, order, referenceUp, probability } = t;
    for (let c = 0; c < space.classes.length; c++) {
      for (let r = 0; r < R; r++) {
        for (let f = 0; f < F; f++) {
          for (let l = 0; l < L; l++) {
            const s = space.index(g, c, r, f, l);
            let v = 0;
            for (let k = 0; k < K; k++) {
              const eligibleAt = (c * K + k) * A;
              const cellAt = ((r * F + f) * K + k) * A;
              let chosenScore = -Infinity;
              let chosenValue = 0;
              for (let a = 0; a < A; a++) {
                if (eligible[eligibleAt + a] === 0) continue;
                const i = cellAt + a;
                const q =
                  reward[i]! + gamma * lookahead(continuation, s, stride, a, A, order, referenceUp, i * OUTCOMES);
                const score = ruleCode === 0 ? q : ruleCode === 1 ? reward[i]! : a === fixed ? 1 : a === 0 ? 0 : -1;
                // Strictly greater: the lowest index wins ties, as in the edge's greedy choice.
                if (score > chosenScore) {
                  chosenScore = score;
                  chosenValue = q;
                }
              }
              v += probability[k]! * chosenValue;
            }
            next[s] = v;
          }
        }
      }
    }
  }
  return next;
}
