import { describe, expect, test } from "vitest";
import { DEFAULT_ACTION_IDS, DEFAULT_CATALOGUE, promotionCost } from "../../shared/catalogue.ts";
import type { Context } from "../../shared/context.ts";
import { DEFAULT_COMPILED_SPEC, encodeFeatures, stateKey } from "../../shared/features.ts";
import type { DecisionRow, OutcomeRow } from "../../shared/schema.ts";
import { buildDataset, type BuildDatasetOptions } from "../../trainer/data/build-dataset.ts";
import type { Dataset, Step } from "../../trainer/data/dataset.ts";
import { DEFAULT_ENCODER } from "../../trainer/data/encoders.ts";
import { DEFAULT_REWARD_SPEC } from "../../shared/reward.ts";
import { CART_CONTEXT, DAY, HOUR, decisionRow, outcomeRow } from "./support/log-rows.ts";

const NOW = Date.UTC(2026, 0, 31);
const OPTIONS: BuildDatasetOptions = { catalogue: DEFAULT_CATALOGUE, reward: DEFAULT_REWARD_SPEC, now: NOW };
const spec = DEFAULT_REWARD_SPEC;
const catalogueEntry = (id: string) => DEFAULT_CATALOGUE.find((p) => p.id === id)!;

const HOME_CONTEXT: Context = {
  ...CART_CONTEXT,
  device: "desktop",
  page: "home",
  cartValue: 0,
  visits: 3,
  daysSinceLastVisit: 2,
};

const a1 = decisionRow({ id: "a1", ts: NOW - 20 * DAY, action: "pct10" });
const a2 = decisionRow({ id: "a2", ts: a1.ts + HOUR, action: "fixed5" });
const a3 = decisionRow({ id: "a3", ts: a2.ts + 8 * DAY, action: "fixed5" });
const b1 = decisionRow({ id: "b1", visitorHash: "visitor-b", ts: NOW - 8 * DAY });
const b2 = decisionRow({ id: "b2", visitorHash: "visitor-b", ts: NOW - 2 * DAY });
const c1 = decisionRow({ id: "c1", visitorHash: "visitor-c", ts: NOW - 15 * DAY });
const c2 = decisionRow({
  id: "c2",
  visitorHash: "visitor-c",
  ts: c1.ts + HOUR,
  featureSpecHash: "old-spec",
  context: "{not json",
});
const d1 = decisionRow(
  {
    id: "d1",
    visitorHash: "visitor-d",
    ts: NOW - 10 * DAY,
    featureSpecHash: "old-spec",
    features: "[1,2,3]",
    stateKey: 9999,
  },
  HOME_CONTEXT,
);
const storedFeatures = new Array<number>(DEFAULT_ENCODER.width).fill(0.5);
const e1 = decisionRow({
  id: "e1",
  visitorHash: "visitor-e",
  ts: NOW - 10 * DAY,
  features: JSON.stringify(storedFeatures),
  stateKey: 3,
});

/** One row per reason a decision cannot be used. */
const unusable: Record<string, DecisionRow[]> = {
  "decision:duplicate-id": [decisionRow({ id: "a1", ts: NOW - 19 * DAY, action: "gift" })],
  "decision:bad-context-json": [c2],
  "decision:context-invalid": [
    decisionRow({
      id: "x-schema",
      visitorHash: "x",
      ts: NOW - 9 * DAY,
      featureSpecHash: "old-spec",
      context: '{"device":"toaster"}',
    }),
  ],
  "decision:unknown-action": [decisionRow({ id: "x-action", visitorHash: "x", ts: NOW - 9 * DAY, action: "pct99" })],
  "decision:propensity-out-of-range": [
    decisionRow({ id: "x-p0", visitorHash: "x", ts: NOW - 9 * DAY, propensity: 0 }),
    decisionRow({ id: "x-p15", visitorHash: "x", ts: NOW - 9 * DAY, propensity: 1.5 }),
  ],
  "decision:action-not-eligible": [
    decisionRow({ id: "x-inel", visitorHash: "x", ts: NOW - 9 * DAY, action: "gift", eligible: '["none","pct10"]' }),
  ],
  "decision:unknown-eligible-action": [
    decisionRow({ id: "x-unel", visitorHash: "x", ts: NOW - 9 * DAY, eligible: '["none","pct10","retired"]' }),
  ],
  "decision:bad-stored-features": [
    decisionRow({ id: "x-feat", visitorHash: "x", ts: NOW - 9 * DAY, features: "[1,2]" }),
  ],
  "decision:bad-stored-state-key": [
    decisionRow({ id: "x-key", visitorHash: "x", ts: NOW - 9 * DAY, stateKey: DEFAULT_ENCODER.stateCount }),
  ],
  "decision:missing-visitor": [decisionRow({ id: "x-visitor", visitorHash: "", ts: NOW - 9 * DAY })],
};

const attributed: OutcomeRow[] = [
  outcomeRow({ decisionId: "a1", ts: a1.ts + HOUR, kind: "click" }),
  outcomeRow({ decisionId: "a1", ts: a1.ts + 2 * DAY, kind: "conversion", value: 100, eventKey: "order-1" }),
  // Exactly at the end of the 7-day window: still in.
  outcomeRow({ decisionId: "a1", ts: a1.ts + 7 * DAY, kind: "conversion", value: 10, eventKey: "order-2" }),
  outcomeRow({ decisionId: "a1", ts: a1.ts + 6 * DAY, kind: "refund", value: 20, eventKey: "order-1" }),
  outcomeRow({ decisionId: "a3", ts: a3.ts + DAY, kind: "conversion", value: 100, eventKey: "order-3" }),
  // For a held-back decision: waits with it, neither credited nor skipped.
  outcomeRow({ decisionId: "b2", ts: b2.ts + HOUR }),
];
const unattributable: Record<string, OutcomeRow[]> = {
  "outcome:outside-window": [
    outcomeRow({ decisionId: "a1", ts: a1.ts + 7 * DAY + 1, kind: "conversion", value: 50, eventKey: "late" }),
    outcomeRow({ decisionId: "a1", ts: a1.ts - 1, eventKey: "early" }),
  ],
  "outcome:without-decision": [outcomeRow({ decisionId: "ghost", ts: NOW - DAY })],
  "outcome:decision-unusable": [outcomeRow({ decisionId: "x-action", ts: NOW - 9 * DAY + HOUR })],
  "outcome:duplicate": [outcomeRow({ decisionId: "a1", ts: a1.ts + 2 * HOUR, kind: "click" })],
};

function build(options: Partial<BuildDatasetOptions> = {}): Dataset {
  return buildDataset(
    [
      a1,
      a2,
      a3,
      b1,
      b2,
      c1,
      c2,
      d1,
      e1,
      ...Object.values(unusable)
        .flat()
        .filter((row) => row !== c2),
    ],
    [...attributed, ...Object.values(unattributable).flat()],
    { ...OPTIONS, ...options },
  );
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
