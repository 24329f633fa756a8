import { describe, expect, test } from "vitest";
import type { Dataset, LoggedState, Step } from "../../trainer/data/dataset.ts";
import { featureGroups, permutationImportance } from "../../trainer/report/permutation-importance.ts";
import { createRng } from "../../shared/rng.ts";
import type { QModel } from "../../trainer/ope/target-policy.ts";

// "segment" (one-hot over 3 values) drives the model; "hour" (cyclic) and "visits" (numeric) do not.
const SLOTS = ["segment=a", "segment=b", "segment=other", "hour:sin", "hour:cos", "visits"];

function syntheticLog(n: number, seed: number): Dataset {
  const rng = createRng(seed);
  const states: LoggedState[] = [];
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    const segment = Math.floor(rng() * 3);
    const angle = 2 * Math.PI * rng();
    const features = Float32Array.of(
      segment === 0 ? 1 : 0,
      segment === 1 ? 1 : 0,
      segment === 2 ? 1 : 0,
      Math.sin(angle),
      Math.cos(angle),
      rng(),
    );
    states.push({ features, stateKey: segment, eligible: Uint8Array.of(1, 1, 1) });
    steps.push({
      state: i,
      action: 0,
      propensity: 1 / 3,
      reward: 0,
      next: -1,
      visitor: `v${i}`,
      ts: i,
      decisionId: `d${i}`,
    });
  }
  return {
    actions: ["none", "ten-off", "free-shipping"],
    featureSpecHash: "synthetic",
    featureWidth: SLOTS.length,
    stateCount: 3,
    slotNames: SLOTS,
    states,
    steps,
    heldBack: 0,
    skipped: {},
    window: { from: 0, to: n },
  };
}

/** Q-values that depend on the segment slots only: segment a → action 1, b → action 2, other → action 0. */
const segmentModel: QModel = (state) => Float32Array.of(state.features[2]!, state.features[0]!, state.features[1]!);

describe("permutation importance", () => {
  const log = syntheticLog(600, 3);

  test("groups one-hot, cyclic and plain slots by field name", () => {
    expect(featureGroups(SLOTS)).toEqual([
      { name: "segment", slots: [0, 1, 2] },
      { name: "hour", slots: [3, 4] },
      { name: "visits", slots: [5] },
    ]);
  });

  test("ranks the feature the model uses above the ones it ignores, which score 0", () => {
    const importance = permutationImportance(log, segmentModel, SLOTS, 1);
    expect(importance.map((f) => f.feature)[0]).toBe("segment");
    const byName = Object.fromEntries(importance.map((f) => [f.feature, f.importance]));
    // Shuffling a uniform 3-way segment changes it with probability 2/3.
    expect(byName.segment).toBeGreaterThan(0.55);
    expect(byName.segment).toBeLessThan(0.78);
    expect(byName.hour).toBe(0);
    expect(byName.visits).toBe(0);
  });

  test("accepts an action chooser as well as a Q-model, and is repeatable from its seed", () => {
    const chooser = (state: LoggedState) => (state.features[5]! > 0.5 ? 1 : 0);
    const first = permutationImportance(log, chooser, featureGroups(SLOTS), 9);
    expect(first[0]!.feature).toBe("visits");
    expect(permutationImportance(log, chooser, featureGroups(SLOTS), 9)).toEqual(first);
  });

  test("a tabular model only sees a permuted feature through a recomputed state key", () => {
    const tabular: QModel = (state) => Float32Array.from([0, 1, 2], (a) => (a === state.stateKey ? 1 : 0));
    const withoutKey = permutationImportance(log, tabular, SLOTS, 2);
    expect(withoutKey.every((f) => f.importance === 0)).toBe(true);
    const stateKeyOf = (features: Float32Array) => features.slice(0, 3).indexOf(1);
    const withKey = permutationImportance(log, tabular, SLOTS, 2, { repeats: 2, maxStates: 600, stateKeyOf });
    expect(withKey[0]).toMatchObject({ feature: "segment" });
    expect(withKey[0]!.importance).toBeGreaterThan(0.5);
  });

  test("respects the eligibility mask when choosing from Q-values", () => {
    const masked = { ...log, states: log.states.map((s) => ({ ...s, eligible: Uint8Array.of(1, 0, 0) })) };
    expect(permutationImportance(masked, segmentModel, SLOTS, 4).every((f) => f.importance === 0)).toBe(true);
  });
});
