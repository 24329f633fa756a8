import { greedyAction } from "../../shared/policy/explore.ts";
import type { Dataset, LoggedState } from "../data/dataset.ts";
import { createRng, randomIndex, sampleIndices, type Rng } from "../../shared/rng.ts";
import type { QModel } from "../ope/target-policy.ts";

/** The action a policy picks in a state. */
export type ActionChooser = (state: LoggedState) => number;

/** Feature slots that are permuted together: all slots of one field, so a one-hot stays one-hot. */
export interface FeatureGroup {
  name: string;
  slots: readonly number[];
}

export interface FeatureImportance {
  feature: string;
  /** Fraction of states whose chosen action changed when the feature was permuted, in [0, 1]. */
  importance: number;
}

export interface PermutationImportanceOptions {
  /** Permutations per feature, averaged. */
  repeats: number;
  /** States sampled from the logs, to bound the cost (each permutation chooses once per state). */
  maxStates: number;
  /**
   * Recomputes the state key from permuted features. A tabular model reads only the key, so
   * without this every feature scores 0 for it; a network reads the features and needs none.
   */
  stateKeyOf?: (features: Float32Array) => number;
}

export const DEFAULT_PERMUTATION_OPTIONS: PermutationImportanceOptions = { repeats: 3, maxStates: 2000 };

/**
 * Groups slot names by field: the name up to the first "=" or ":" ("device=mobile" → "device",
 * "localHour:sin" → "localHour", "cartValue" → "cartValue"), in order of first appearance.
 */
export function featureGroups(slotNames: readonly string[]): FeatureGroup[] {
  const groups = new Map<string, number[]>();
  slotNames.forEach((slot, i) => {
    const name = slot.split(/[=:]/, 1)[0]!;
    const slots = groups.get(name);
    if (slots) slots.push(i);
    else groups.set(name, [i]);
  });
  return [...groups].map(([name, slots]) => ({ name, slots }));
}

/**
 * Permutation importance measured on the decision (after Breiman 2001, who measured it on the
 * error): shuffle one feature group's values across the logged states, breaking its link to the
 * rest of each state, and count how often the chosen action changes. A feature the policy ignores
 * scores 0; one that drives every choice scores up to the chance that a shuffled value leads
 * elsewhere. Eligibility is not permuted: it constrains the choice rather than informing it.
 *
 * Returned most important first.
 */
export function permutationImportance(
  dataset: Dataset,
  model: QModel | ActionChooser,
  groups: readonly string[] | readonly FeatureGroup[],
  seed: number,
  options: PermutationImportanceOptions = DEFAULT_PERMUTATION_OPTIONS,
): FeatureImportance[] {
  const rng = createRng(seed);
  const choose = chooser(model);
  const states = sampledStates(dataset, options.maxStates, rng);
  const chosen = states.map(choose);
  const featureGroupList = isSlotNames(groups) ? featureGroups(groups) : groups;

  const importances = featureGroupList.map(({ name, slots }) => {
    let changed = 0;
    for (let r = 0; r < options.repeats; r++) {
      const donors = permutation(states.length, rng);
      states.forEach((state, i) => {
        const features = Float32Array.from(state.features);
        const donor = states[donors[i]!]!.features;
        for (const slot of slots) features[slot] = donor[slot]!;
        const stateKey = options.stateKeyOf ? options.stateKeyOf(features) : state.stateKey;
        if (choose({ features, stateKey, eligible: state.eligible }) !== chosen[i]) changed++;
      });
    }
    return { feature: name, importance: states.length === 0 ? 0 : changed / (states.length * options.repeats) };
  });
  return importances.sort((a, b) => b.importance - a.importance);
}

/** A Q-model chooses greedily among the eligible actions; a chooser as it likes. */
function chooser(model: QModel | ActionChooser): ActionChooser {
  return (state) => {
    const output = model(state);
    return typeof output === "number" ? output : greedyAction(output, state.eligible);
  };
}

/** The distinct states of the logged decisions, at most `maxStates` of them drawn at random. */
function sampledStates(dataset: Dataset, maxStates: number, rng: Rng): LoggedState[] {
  const decisionStates = [...new Set(dataset.steps.map((step) => step.state))];
  return [...sampleIndices(rng, decisionStates.length, maxStates)].map((i) => dataset.states[decisionStates[i]!]!);
}

/** A uniformly random permutation of 0 … n−1 (Fisher–Yates). */
function permutation(n: number, rng: Rng): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randomIndex(rng, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

function isSlotNames(groups: readonly string[] | readonly FeatureGroup[]): groups is readonly string[] {
  return groups.every((g) => typeof g === "string");
}
