import { describe, expect, test } from "vitest";
import { concatDatasets } from "../../trainer/data/concat.ts";
import { datasetOf } from "./helpers/datasets.ts";

const ACTIONS = ["none", "pct10"];
/** Two decisions of one visit: keys `keys`, the second with `secondEligible`, rewards `rewards`. */
const visit = (
  keys: [number, number],
  secondEligible: number[],
  actions: [number, number],
  rewards: [number, number],
) =>
  datasetOf(
    ACTIONS,
    4,
    [
      { key: keys[0], eligible: [1, 1] },
      { key: keys[1], eligible: secondEligible },
    ],
    [
      { state: 0, action: actions[0], reward: rewards[0], next: 1 },
      { state: 1, action: actions[1], reward: rewards[1] },
    ],
  );
const first = visit([0, 1], [1, 1], [1, 0], [1, 2]);
const second = visit([2, 3], [1, 1], [0, 1], [3, 4]);

describe("concatDatasets", () => {
  test("keeps every step, with its states and next-state links shifted into the joined state list", () => {
    const joined = concatDatasets([first, second]);
    expect(joined.states.map((s) => s.stateKey)).toEqual([0, 1, 2, 3]);
    expect(joined.steps.map((s) => [s.state, s.next, s.reward, s.propensity])).toEqual([
      [0, 1, 1, 0.5],
      [1, -1, 2, 0.5],
      [2, 3, 3, 0.5],
      [3, -1, 4, 0.5],
    ]);
    expect(joined.window).toEqual({
      from: Math.min(first.window.from, second.window.from),
      to: Math.max(first.window.to, second.window.to),
    });
  });

  test("refuses datasets of different actions, and nothing at all", () => {
    expect(() => concatDatasets([first, { ...second, actions: ["none", "bundle"] }])).toThrow(/different/);
    expect(() => concatDatasets([])).toThrow(/nothing/);
  });
});
