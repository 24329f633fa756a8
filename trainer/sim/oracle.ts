import type { Context } from "../../shared/context.ts";
import { greedyChooser, type Chooser, type PageView } from "./chooser.ts";
import type { LatentState } from "./latent.ts";
import { DEFAULT_SIM_MODEL, validateModel, type SimModel } from "./model.ts";
import { respond } from "./response.ts";
import {
  continuationTable,
  latentSpace,
  lookahead,
  responseCell,
  segmentTables,
  sweep,
  type LatentRule,
} from "./value-iteration.ts";

export type { LatentRule } from "./value-iteration.ts";

/**
 * Value iteration over the simulator's latent state: segment × country class × reference level ×
 * fatigue × loyalty. It is exact because the rest of a page view (page, cart) is drawn afresh from a
 * finite, segment-dependent distribution at every step, so
 *
 *   V(x) = Σ_v p(v | segment) · Q(x, v, π(x, v)),
 *   Q(x, v, a) = r̄(x, v, a) + γ · Σ_o p(o | x, v, a) · Σ_x' p(x' | x, v, a, o) · cont(x') · V(x'),
 *
 * where v is the page view (page, cart), o the order outcome (none, kept, refunded), r̄ the exact
 * expected reward, and cont(x') the probability that the visitor has another page view.
 *
 * One relaxation, stated: the per-visitor exposure caps (a rolling 7-day count) are not part of the
 * state, so the solution assumes every cart- and country-eligible promotion is available. The plan's
 * value is then an upper bound on what any policy earns in the capped simulator; the oracle policy
 * itself respects the real mask at every page view.
 */
export interface LatentSolution {
  gamma: number;
  rule: LatentRule;
  /** Expected discounted value of an arriving visitor under the rule (caps relaxed). */
  valuePerVisitor: number;
  /** The same, by arrival segment id. */
  valueBySegment: Record<string, number>;
  sweeps: number;
  /** Q(x, v, a) of every action (ineligible ones included: the caller masks). */
  actionValues(state: LatentState, context: Pick<Context, "page" | "cartValue" | "country">): Float64Array;
}

export interface SolveOptions {
  model?: SimModel;
  /** Default: the model's γ. */
  gamma?: number;
  /** Default: plan. */
  rule?: LatentRule;
  /** Stop when no state value moves by more than this. Default 1e-9. */
  tolerance?: number;
}

export function solveLatentMdp(options: SolveOptions = {}): LatentSolution {
  const model = options.model ?? DEFAULT_SIM_MODEL;
  validateModel(model);
  const gamma = options.gamma ?? model.gamma;
  const rule = options.rule ?? { kind: "plan" };
  const tolerance = options.tolerance ?? 1e-9;
  const space = latentSpace(model);
  const tables = segmentTables(model, space);

  let values: Float64Array = new Float64Array(space.size);
  let continuation = continuationTable(model, space, values);
  let sweeps = 0;
  for (;;) {
    const next = sweep(model, space, tables, continuation, gamma, rule);
    sweeps++;
    let change = 0;
    for (let i = 0; i < next.length; i++) change = Math.max(change, Math.abs(next[i]! - values[i]!));
    values = next;
    continuation = continuationTable(model, space, values);
    if (change < tolerance || gamma === 0) break;
    if (sweeps >= 100_000) throw new Error("value iteration did not converge");
  }

  const valueBySegment: Record<string, number> = {};
  let valuePerVisitor = 0;
  const shares = model.segments.reduce((a, s) => a + s.share, 0);
  model.segments.forEach((segment, g) => {
    let v = 0;
    space.classes.forEach(
      (cls, c) => (v += cls.probability * values[space.index(g, c, segment.restingReference, 0, 0)]!),
    );
    valueBySegment[segment.id] = v;
    valuePerVisitor += (segment.share / shares) * v;
  });

  return {
    gamma,
    rule,
    valuePerVisitor,
    valueBySegment,
    sweeps,
    actionValues(state, context) {
      const s = space.index(
        state.segment,
        space.classOf(context.country),
        state.reference,
        state.fatigue,
        state.loyalty,
      );
      const q = new Float64Array(space.actions);
      for (let a = 0; a < q.length; a++) {
        const cell = responseCell(model, state, context, a);
        q[a] =
          cell.reward +
          gamma * lookahead(continuation, s, space.referenceStride, a, space.actions, cell.order, cell.referenceUp, 0);
      }
      return q;
    },
  };
}

/** The full-information plan: the action best for the visitor's discounted long-term value. */
export function oracleChooser(options: Omit<SolveOptions, "rule"> = {}): Chooser {
  const solution = solveLatentMdp({ ...options, rule: { kind: "plan" } });
  return greedyChooser("oracle", (view: PageView) => solution.actionValues(view.latent, view.context));
}

/** Full information, no foresight: the action with the highest exact expected reward today (γ = 0). */
export function myopicOracleChooser(model: SimModel = DEFAULT_SIM_MODEL): Chooser {
  return greedyChooser("myopic-oracle", (view: PageView) =>
    Float64Array.from(model.catalogue, (_, a) => respond(model, view.latent, view.context, a).expectedReward),
  );
}
