import { describe, expect, test } from "vitest";
import { DEFAULT_ACTION_IDS, DEFAULT_CATALOGUE, promotionCost } from "../../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC, encodeFeatures, stateKey } from "../../shared/features.ts";
import { buildDataset, type BuildDatasetOptions } from "../../trainer/data/build-dataset.ts";
import type { Dataset, Step } from "../../trainer/data/dataset.ts";
import { DEFAULT_REWARD_SPEC } from "../../shared/reward.ts";
import {
  FIXTURE_DECISIONS,
  FIXTURE_OUTCOMES,
  HOME_CONTEXT,
  NOW,
  a1,
  b1,
  storedFeatures,
  unattributable,
  unusable,
} from "./support/dataset-fixture.ts";
import { CART_CONTEXT, DAY } from "./support/log-rows.ts";

const OPTIONS: BuildDatasetOptions = { catalogue: DEFAULT_CATALOGUE, reward: DEFAULT_REWARD_SPEC, now: NOW };
const spec = DEFAULT_REWARD_SPEC;
const catalogueEntry = (id: string) => DEFAULT_CATALOGUE.find((p) => p.id === id)!;

function build(options: Partial<BuildDatasetOptions> = {}): Dataset {
  return buildDataset(FIXTURE_DECISIONS, FIXTURE_OUTCOMES, { ...OPTIONS, ...options });
}

const stepOf = (dataset: Dataset, id: string): Step => {
  const step = dataset.steps.find((s) => s.decisionId === id);
  if (!step) throw new Error(`no step ${id}`);
  return step;
};

describe("buildDataset", () => {
  const dataset = build();

  test("describes the action space and encoding it was built with", () => {
    expect(dataset.actions).toEqual(DEFAULT_ACTION_IDS);
    expect(dataset.featureSpecHash).toBe(DEFAULT_COMPILED_SPEC.hash);
    expect(dataset.featureWidth).toBe(DEFAULT_COMPILED_SPEC.width);
    expect(dataset.stateCount).toBe(DEFAULT_COMPILED_SPEC.stateCount);
    expect(dataset.slotNames).toEqual(DEFAULT_COMPILED_SPEC.slotNames);
  });

  test("makes steps of matured decisions only, ordered by visitor then time", () => {
    expect(dataset.steps.map((s) => s.decisionId)).toEqual(["a1", "a2", "a3", "b1", "c1", "d1", "e1"]);
    expect(dataset.window).toEqual({ from: a1.ts, to: b1.ts });
  });

  test("rewards click + margin − promotion cost − refunds from the outcomes inside the window", () => {
    const pct10 = catalogueEntry("pct10");
    const expected =
      spec.clickValue +
      (spec.marginRate * 100 - promotionCost(pct10, 100)) +
      (spec.marginRate * 10 - promotionCost(pct10, 10)) -
      spec.refundRate * 20;
    expect(stepOf(dataset, "a1").reward).toBeCloseTo(expected, 10);
    expect(stepOf(dataset, "a1").reward).toBeCloseTo(0.05 + 30 + 3 - 10, 10);
    expect(stepOf(dataset, "a3").reward).toBeCloseTo(
      spec.marginRate * 100 - promotionCost(catalogueEntry("fixed5"), 100),
      10,
    );
    expect(stepOf(dataset, "a2").reward).toBe(0);
  });

  test("keeps the logged action index and propensity", () => {
    expect(stepOf(dataset, "a2")).toMatchObject({
      action: DEFAULT_ACTION_IDS.indexOf("fixed5"),
      propensity: 0.25,
      visitor: "visitor-a",
    });
  });

  test("holds back decisions whose window is still open, but links to them as next states", () => {
    expect(dataset.heldBack).toBe(1);
    expect(dataset.steps.some((s) => s.decisionId === "b2")).toBe(false);
    const next = stepOf(dataset, "b1").next;
    expect(next).toBeGreaterThanOrEqual(0);
    expect(dataset.states[next]!.features).toEqual(encodeFeatures(DEFAULT_COMPILED_SPEC, CART_CONTEXT));
    expect(dataset.states).toHaveLength(8);
  });

  test("links the same visitor's next decision within the horizon, else the step is terminal", () => {
    expect(stepOf(dataset, "a1").next).toBe(stepOf(dataset, "a2").state);
    expect(stepOf(dataset, "a2").next).toBe(-1); // a3 comes 8 days later
    expect(stepOf(dataset, "a3").next).toBe(-1);
    expect(stepOf(dataset, "d1").next).toBe(-1); // another visitor's decisions never link
    expect(stepOf(build({ horizonMs: 30 * 60_000 }), "a1").next).toBe(-1);
  });

  test("ends a trajectory where the visitor's next decision is unusable", () => {
    expect(stepOf(dataset, "c1").next).toBe(-1);
  });

  test("re-encodes rows logged under another feature spec from their raw context", () => {
    const state = dataset.states[stepOf(dataset, "d1").state]!;
    expect(state.features).toEqual(encodeFeatures(DEFAULT_COMPILED_SPEC, HOME_CONTEXT));
    expect(state.stateKey).toBe(stateKey(DEFAULT_COMPILED_SPEC, HOME_CONTEXT));
  });

  test("reuses stored features and state key under the current spec", () => {
    const state = dataset.states[stepOf(dataset, "e1").state]!;
    expect(Array.from(state.features)).toEqual(storedFeatures);
    expect(state.stateKey).toBe(3);
  });

  test("turns the logged eligible ids into a mask over the catalogue", () => {
    expect(Array.from(dataset.states[stepOf(dataset, "a1").state]!.eligible)).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  test("counts every unusable row by reason", () => {
    const expected: Record<string, number> = {};
    for (const [reason, rows] of [...Object.entries(unusable), ...Object.entries(unattributable)])
      expected[reason] = rows.length;
    expect(dataset.skipped).toEqual(expected);
  });

  test("applies a shorter attribution window to both crediting and holding back", () => {
    const short = build({ attributionWindowMs: DAY });
    expect(stepOf(short, "a1").reward).toBeCloseTo(spec.clickValue, 10);
    expect(short.steps.some((s) => s.decisionId === "b2")).toBe(true);
    expect(short.heldBack).toBe(0);
  });

  test("refuses an encoder whose actions are not the catalogue's", () => {
    expect(() => buildDataset([], [], { ...OPTIONS, catalogue: DEFAULT_CATALOGUE.slice(0, 3) })).toThrow(
      /differ from the catalogue/,
    );
  });

  test("builds an empty dataset from empty logs", () => {
    const empty = buildDataset([], [], OPTIONS);
    expect(empty).toMatchObject({ steps: [], states: [], heldBack: 0, skipped: {}, window: { from: 0, to: 0 } });
  });
});
