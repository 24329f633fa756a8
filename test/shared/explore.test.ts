import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { uniformFromString } from "../../shared/hash.ts";
import { actionProbabilities, choose, decisionUniform, greedyAction } from "../../shared/policy/explore.ts";
import type { Exploration } from "../../shared/policy/types.ts";
import { explorationArb, qAndMaskArb } from "./helpers.ts";

const uArb = fc.oneof(
  fc.constantFrom(0, 0.5, 1 - 2 ** -53),
  fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
);
/** ε = 1: every draw explores, uniformly over the eligible actions. */
const UNIFORM_EXPLORATION: Exploration = { type: "epsilon", epsilon: 1, floor: 0 };
const count = (mask: ArrayLike<number>) => Array.from(mask).filter(Boolean).length;

describe("actionProbabilities", () => {
  test("is a distribution over the eligible actions that respects the floor and favours the greedy action", () => {
    fc.assert(
      fc.property(qAndMaskArb, explorationArb, ({ q, eligible }, exploration) => {
        const p = actionProbabilities(q, eligible, exploration);
        expect(p).toHaveLength(eligible.length);
        const n = count(eligible);
        const floor = Math.min(exploration.floor, 1 / n);
        const greedy = greedyAction(q, eligible);
        let sum = 0;
        for (let i = 0; i < p.length; i++) {
          sum += p[i]!;
          if (!eligible[i]) {
            expect(p[i]).toBe(0);
            continue;
          }
          expect(p[i]).toBeGreaterThanOrEqual(floor - 1e-12);
          expect(p[i]).toBeLessThanOrEqual(1 + 1e-12);
          expect(p[greedy]).toBeGreaterThanOrEqual(p[i]! - 1e-12);
        }
        expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-9);
      }),
      { numRuns: 1000 },
    );
  });

  test("epsilon-greedy: ε/n to each eligible action, plus 1 − ε to the greedy one", () => {
    const q = [0.3, 2, -1, 2, 5];
    const eligible = [1, 1, 1, 1, 0]; // the best Q is ineligible; 1 and 3 tie, the lower index wins
    const p = actionProbabilities(q, eligible, { type: "epsilon", epsilon: 0.2, floor: 0 });
    expect([...p]).toEqual([0.05, 0.05 + 0.8, 0.05, 0.05, 0]);
  });

  test("epsilon-greedy raises ε so that every action reaches the floor", () => {
    const p = actionProbabilities([1, 0, 0, 0], [1, 1, 1, 1], { type: "epsilon", epsilon: 0, floor: 0.1 });
    expect(p[1]).toBeCloseTo(0.1, 15);
    expect(p[0]).toBeCloseTo(0.7, 15);
  });

  test("softmax follows exp(q / T) when no floor binds", () => {
    const q = [1, 2, 3];
    const p = actionProbabilities(q, [1, 1, 1], { type: "softmax", temperature: 2, floor: 0 });
    const z = q.reduce((s, x) => s + Math.exp(x / 2), 0);
    q.forEach((x, i) => expect(p[i]).toBeCloseTo(Math.exp(x / 2) / z, 12));
  });

  test("softmax mixes with uniform just enough to lift the least likely action to the floor", () => {
    const p = actionProbabilities([10, 0, 0], [1, 1, 1], { type: "softmax", temperature: 0.01, floor: 0.05 });
    expect(p[1]).toBeCloseTo(0.05, 12);
    expect(p[2]).toBeCloseTo(0.05, 12);
    expect(p[0]).toBeCloseTo(0.9, 12);
  });

  test("a floor above 1/n makes the distribution uniform", () => {
    for (const exploration of [
      { type: "epsilon", epsilon: 0, floor: 0.9 },
      { type: "softmax", temperature: 0.01, floor: 0.9 },
    ] satisfies Exploration[]) {
      const p = actionProbabilities([5, 1, 0, 9], [1, 1, 1, 0], exploration);
      [0, 1, 2].forEach((i) => expect(p[i]).toBeCloseTo(1 / 3, 12));
      expect(p[3]).toBe(0);
    }
  });

  test("a softmax at temperature 0 is its limit: greedy, then the floor (never NaN)", () => {
    const p = actionProbabilities([1, 3, 2], [1, 1, 1], { type: "softmax", temperature: 0, floor: 0.1 });
    expect([...p].every(Number.isFinite)).toBe(true);
    expect(p[0]).toBeCloseTo(0.1, 12);
    expect(p[2]).toBeCloseTo(0.1, 12);
    expect(p[1]).toBeCloseTo(0.8, 12);
  });

  test("the uniform exploration gives 1/n to each eligible action whatever the Q-values", () => {
    fc.assert(
      fc.property(qAndMaskArb, ({ q, eligible }) => {
        const p = actionProbabilities(q, eligible, UNIFORM_EXPLORATION);
        const n = count(eligible);
        for (let i = 0; i < p.length; i++) expect(p[i]).toBeCloseTo(eligible[i] ? 1 / n : 0, 14);
      }),
    );
  });

  test("writes into, and returns, the buffer it is given", () => {
    const out = new Float64Array(3).fill(7);
    const p = actionProbabilities([1, 2, 3], [1, 0, 1], UNIFORM_EXPLORATION, out);
    expect(p).toBe(out);
    expect([...out]).toEqual([0.5, 0, 0.5]);
  });
});

describe("greedyAction", () => {
  test("takes the best eligible Q, the lowest index on ties", () => {
    expect(greedyAction([1, 5, 5, 9], [1, 1, 1, 0])).toBe(1);
    expect(greedyAction([-3, -2], [1, 0])).toBe(0);
  });

  test("throws when nothing is eligible", () => {
    expect(() => greedyAction([1, 2], [0, 0])).toThrow(RangeError);
  });
});

describe("choose", () => {
  test("draws an eligible action whose propensity is exactly its probability", () => {
    fc.assert(
      fc.property(qAndMaskArb, explorationArb, uArb, ({ q, eligible }, exploration, u) => {
        const p = actionProbabilities(q, eligible, exploration);
        const choice = choose(q, eligible, u, exploration);
        expect(eligible[choice.action]).toBe(1);
        expect(choice.propensity).toBe(p[choice.action]);
        expect(choice.propensity).toBeGreaterThan(0);
        expect(choice.explored).toBe(choice.action !== greedyAction(q, eligible));
      }),
      { numRuns: 1000 },
    );
  });

  test("over a fine grid of u, each action is drawn as often as its probability", () => {
    const N = 2000;
    fc.assert(
      fc.property(qAndMaskArb, explorationArb, ({ q, eligible }, exploration) => {
        const p = actionProbabilities(q, eligible, exploration);
        const hits = new Array<number>(q.length).fill(0);
        for (let k = 0; k < N; k++) hits[choose(q, eligible, (k + 0.5) / N, exploration).action]!++;
        // The grid measures each action's interval of [0, 1) to within one step.
        for (let i = 0; i < q.length; i++) expect(Math.abs(hits[i]! / N - p[i]!)).toBeLessThanOrEqual(1 / N + 1e-9);
      }),
      { numRuns: 200 },
    );
  });

  test("u = 0 draws the first action with positive probability, u just under 1 the last", () => {
    const exploration: Exploration = { type: "epsilon", epsilon: 0.5, floor: 0 };
    expect(choose([0, 1, 2, 3], [0, 1, 1, 1], 0, exploration).action).toBe(1);
    expect(choose([0, 1, 2, 3], [0, 1, 1, 0], 1 - 2 ** -53, exploration).action).toBe(2);
  });

  test("never draws an action of probability 0, even when rounding leaves the total under 1", () => {
    // Softmax underflows the last action to exactly 0, and the others sum to 1 − 2⁻⁵³ in floating point.
    const q = [1.1930334469914978, 2.3153643243431716, -1e6];
    const exploration: Exploration = { type: "softmax", temperature: 1, floor: 0 };
    const p = actionProbabilities(q, [1, 1, 1], exploration);
    expect(p[2]).toBe(0);
    expect(p[0]! + p[1]!).toBeLessThan(1);
    const choice = choose(q, [1, 1, 1], 1 - 2 ** -53, exploration);
    expect(choice.action).toBe(1);
    expect(choice.propensity).toBe(p[1]);
  });

  test("replays: the same Q-values, mask and decision id give the same action and propensity", () => {
    fc.assert(
      fc.property(qAndMaskArb, explorationArb, fc.string(), qAndMaskArb, ({ q, eligible }, exploration, id, other) => {
        const first = choose(q, eligible, decisionUniform(id), exploration);
        // Something else runs in between with a shared scratch buffer; the replay must not notice.
        const scratch = new Float64Array(Math.max(q.length, other.q.length));
        choose(other.q, other.eligible, decisionUniform(`${id}x`), exploration, scratch.subarray(0, other.q.length));
        const again = choose(
          Float64Array.from(q),
          Uint8Array.from(eligible),
          decisionUniform(id),
          exploration,
          scratch.subarray(0, q.length),
        );
        expect(again).toEqual(first);
      }),
      { numRuns: 300 },
    );
  });
});

describe("decisionUniform", () => {
  test("is in [0, 1) and a function of the id alone", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "grapheme" }), fc.uuid()), (id) => {
        const u = decisionUniform(id);
        expect(u).toBeGreaterThanOrEqual(0);
        expect(u).toBeLessThan(1);
        expect(decisionUniform(id)).toBe(u);
      }),
    );
  });

  test("is not the plain string uniform (the draw is namespaced)", () => {
    expect(decisionUniform("abc")).not.toBe(uniformFromString("abc"));
    expect(decisionUniform("abc")).toBe(uniformFromString("u:abc"));
  });

  test("spreads sequential ids evenly over [0, 1)", () => {
    const N = 20_000;
    const deciles = new Array<number>(10).fill(0);
    let sum = 0;
    const seen = new Set<number>();
    for (let i = 0; i < N; i++) {
      const u = decisionUniform(`01J8ZK${i.toString(36).padStart(8, "0")}`);
      deciles[Math.floor(u * 10)]!++;
      sum += u;
      seen.add(u);
    }
    expect(seen.size).toBe(N);
    expect(Math.abs(sum / N - 0.5)).toBeLessThan(0.01);
    // Binomial(20000, 0.1): sd ≈ 42, so ±250 is six deviations.
    for (const d of deciles) expect(Math.abs(d - N / 10)).toBeLessThan(250);
  });
});
