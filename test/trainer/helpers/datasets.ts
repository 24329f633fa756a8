import type { Dataset, LoggedState, Step } from "../../../trainer/data/dataset.ts";
import { createRng, randomIndex } from "../../../shared/rng.ts";

export interface StateSpec {
  key: number;
  eligible: readonly number[];
  features?: readonly number[];
}

export interface StepSpec {
  state: number;
  action: number;
  reward: number;
  next?: number;
}

/** A dataset from literal states and steps; the fields the learners do not read get placeholders. */
export function datasetOf(
  actions: readonly string[],
  stateCount: number,
  states: readonly StateSpec[],
  steps: readonly StepSpec[],
): Dataset {
  const loggedStates: LoggedState[] = states.map((s) => ({
    stateKey: s.key,
    eligible: Uint8Array.from(s.eligible),
    features: Float32Array.from(s.features ?? [s.key]),
  }));
  const loggedSteps: Step[] = steps.map((s, i) => ({
    state: s.state,
    action: s.action,
    propensity: 1 / actions.length,
    reward: s.reward,
    next: s.next ?? -1,
    visitor: `v${i}`,
    ts: i,
    decisionId: `d${i}`,
  }));
  return {
    actions,
    featureSpecHash: "test-spec",
    featureWidth: loggedStates[0]?.features.length ?? 1,
    stateCount,
    slotNames: [],
    states: loggedStates,
    steps: loggedSteps,
    heldBack: 0,
    skipped: {},
    window: { from: 0, to: steps.length },
  };
}

/**
 * A contextual bandit (every step terminal) whose best action depends on the context.
 * Context c ∈ [0, contexts) is a one-hot plus `noiseWidth` uniform distractor slots; its state key
 * is c. Action `bestAction(c)` pays 1; the others pay `spread` · (a + c mod actions) / actions, all
 * distinct when spread > 0 and tied at 0 when it is 0; plus Gaussian-ish noise. The logging policy is
 * uniform over the eligible actions. Action 0 is always eligible; others are each ineligible with
 * probability `ineligibleRate`.
 */
export interface BanditOptions {
  contexts: number;
  actions: number;
  steps: number;
  noiseWidth: number;
  rewardNoise: number;
  ineligibleRate: number;
  spread?: number;
  seed: number;
}

export const bestAction = (context: number, actions: number) => (context * 2 + 1) % actions;

function payoff(context: number, action: number, options: BanditOptions): number {
  if (action === bestAction(context, options.actions)) return 1;
  return ((options.spread ?? 0) * ((action + context) % options.actions)) / options.actions;
}

export function syntheticBandit(options: BanditOptions): Dataset {
  const rng = createRng(options.seed);
  const actionIds = Array.from({ length: options.actions }, (_, a) => `a${a}`);
  const states: StateSpec[] = [];
  const steps: StepSpec[] = [];
  for (let i = 0; i < options.steps; i++) {
    const context = randomIndex(rng, options.contexts);
    const features = Array.from({ length: options.contexts + options.noiseWidth }, (_, slot) =>
      slot < options.contexts ? Number(slot === context) : rng(),
    );
    const eligible = Array.from({ length: options.actions }, (_, a) =>
      Number(a === 0 || rng() >= options.ineligibleRate),
    );
    const eligibleActions = eligible.flatMap((e, a) => (e ? [a] : []));
    const action = eligibleActions[randomIndex(rng, eligibleActions.length)]!;
    const noise = (rng() + rng() + rng() - 1.5) * options.rewardNoise;
    states.push({ key: context, eligible, features });
    steps.push({ state: i, action, reward: payoff(context, action, options) + noise });
  }
  return datasetOf(actionIds, options.contexts, states, steps);
}
