/**
 * Synthetic logs whose true policy values are known analytically, for testing the off-policy
 * estimators: a contextual bandit and a two-state episodic MDP.
 */
import type { Dataset, LoggedState, Step } from "../../trainer/data/dataset.ts";
import { createRng, type Rng } from "../../shared/rng.ts";
import type { QModel, TargetPolicy } from "../../trainer/ope/target-policy.ts";

/** Per context (row) and action (column). */
export type Table = readonly (readonly number[])[];

export interface Bandit {
  contextProbabilities: readonly number[];
  /** Mean reward μ(x, a); rewards are Bernoulli with this mean. */
  meanReward: Table;
  /** 0 where the action is not eligible in that context. */
  eligible: Table;
  logging: Table;
}

export const ACTIONS = ["none", "ten-off", "free-shipping"] as const;

/** Three contexts, three actions, the last action ineligible in the last context. */
export const BANDIT: Bandit = {
  contextProbabilities: [0.5, 0.3, 0.2],
  meanReward: [
    [0.1, 0.3, 0.2],
    [0.4, 0.2, 0.6],
    [0.3, 0.5, 0],
  ],
  eligible: [
    [1, 1, 1],
    [1, 1, 1],
    [1, 1, 0],
  ],
  logging: [
    [0.5, 0.3, 0.2],
    [0.2, 0.5, 0.3],
    [0.6, 0.4, 0],
  ],
};

/** A target policy that plays `table[x]` in context x (its state key). */
export function tablePolicy(name: string, table: Table): TargetPolicy {
  return { name, probabilities: (state) => Float64Array.from(table[state.stateKey]!) };
}

/** The exact value Σₓ p(x) Σₐ π(a|x) μ(x,a). */
export function banditValue(bandit: Bandit, target: Table): number {
  return bandit.contextProbabilities.reduce(
    (sum, px, x) => sum + px * target[x]!.reduce((inner, pa, a) => inner + pa * bandit.meanReward[x]![a]!, 0),
    0,
  );
}

/** The true mean reward as a reward model: what DR would use with a perfect model. */
export function trueRewardModel(table: Table): QModel {
  return (state) => Float32Array.from(table[state.stateKey]!);
}

export function draw(rng: Rng, probabilities: readonly number[]): number {
  const u = rng();
  let cumulative = 0;
  for (let i = 0; i < probabilities.length; i++) {
    cumulative += probabilities[i]!;
    if (u < cumulative) return i;
  }
  return probabilities.findLastIndex((p) => p > 0);
}

function loggedState(context: number, contexts: number, eligible: readonly number[]): LoggedState {
  const features = new Float32Array(contexts);
  features[context] = 1;
  return { features, stateKey: context, eligible: Uint8Array.from(eligible) };
}

function dataset(actions: readonly string[], contexts: number, states: LoggedState[], steps: Step[]): Dataset {
  return {
    actions,
    featureSpecHash: "synthetic",
    featureWidth: contexts,
    stateCount: contexts,
    slotNames: Array.from({ length: contexts }, (_, x) => `context=${x}`),
    states,
    steps,
    heldBack: 0,
    skipped: {},
    window: { from: 0, to: steps.length },
  };
}

/** n independent decisions from the bandit: every decision its own visitor, every step terminal. */
export function banditLog(bandit: Bandit, n: number, seed: number): Dataset {
  const rng = createRng(seed);
  const contexts = bandit.contextProbabilities.length;
  const states: LoggedState[] = [];
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    const x = draw(rng, bandit.contextProbabilities);
    const a = draw(rng, bandit.logging[x]!);
    states.push(loggedState(x, contexts, bandit.eligible[x]!));
    const reward = rng() < bandit.meanReward[x]![a]! ? 1 : 0;
    steps.push({
      state: i,
      action: a,
      propensity: bandit.logging[x]![a]!,
      reward,
      next: -1,
      visitor: `v${i}`,
      ts: i,
      decisionId: `d${i}`,
    });
  }
  return dataset(ACTIONS, contexts, states, steps);
}

/**
 * A two-state episodic MDP. After each decision the episode continues with probability
 * continuation[s][a], into state s' with probability transition[s][a][s']; rewards are Gaussian
 * around meanReward[s][a] with standard deviation 0.5.
 */
export interface EpisodicMdp {
  initial: readonly number[];
  meanReward: Table;
  continuation: Table;
  transition: readonly Table[];
  logging: Table;
}

/**
 * Chosen so that importance sampling has finite variance for the targets the tests use: the second
 * moment of the per-decision weighted terms is governed by the matrix
 * M[s][s'] = γ² Σₐ (π(a|s)²/μ(a|s))·continuation(s,a)·transition(s,a,s'), whose spectral radius
 * must stay below 1 (≈ 0.68 for the deterministic target at γ = 0.9). Above 1 the estimator's
 * variance is infinite and no interval can be calibrated.
 */
export const MDP: EpisodicMdp = {
  initial: [0.6, 0.4],
  meanReward: [
    [0.2, 1.0],
    [0.5, -0.2],
  ],
  continuation: [
    [0.4, 0.3],
    [0.5, 0.35],
  ],
  transition: [
    [
      [0.3, 0.7],
      [0.8, 0.2],
    ],
    [
      [0.5, 0.5],
      [0.1, 0.9],
    ],
  ],
  logging: [
    [0.5, 0.5],
    [0.4, 0.6],
  ],
};

/**
 * The exact expected discounted return Σₛ d₀(s) V(s), solving V = r_π + γ·P_π V, where
 * P_π[s][s'] = Σₐ π(a|s)·continuation(s,a)·transition(s,a,s') (termination is the missing mass).
 */
export function mdpValue(mdp: EpisodicMdp, target: Table, gamma: number): number {
  const r = [0, 1].map((s) => target[s]!.reduce((sum, p, a) => sum + p * mdp.meanReward[s]![a]!, 0));
  const P = [0, 1].map((s) =>
    [0, 1].map((next) =>
      target[s]!.reduce((sum, p, a) => sum + p * mdp.continuation[s]![a]! * mdp.transition[s]![a]![next]!, 0),
    ),
  );
  // (I − γP) V = r, a 2×2 system, by Cramer's rule.
  const a = 1 - gamma * P[0]![0]!;
  const b = -gamma * P[0]![1]!;
  const c = -gamma * P[1]![0]!;
  const d = 1 - gamma * P[1]![1]!;
  const det = a * d - b * c;
  const v0 = (r[0]! * d - b * r[1]!) / det;
  const v1 = (a * r[1]! - c * r[0]!) / det;
  return mdp.initial[0]! * v0 + mdp.initial[1]! * v1;
}

/** `episodes` logged episodes, two per visitor (so visitors hold several unlinked chains), ordered by visitor then time. */
export function mdpLog(mdp: EpisodicMdp, episodes: number, seed: number): Dataset {
  const rng = createRng(seed);
  const states: LoggedState[] = [];
  const steps: Step[] = [];
  for (let e = 0; e < episodes; e++) {
    let s = draw(rng, mdp.initial);
    for (let continues = true; continues;) {
      const a = draw(rng, mdp.logging[s]!);
      const index = states.length;
      states.push(loggedState(s, 2, [1, 1]));
      const reward = mdp.meanReward[s]![a]! + 0.5 * gaussian(rng);
      continues = rng() < mdp.continuation[s]![a]!;
      const following = continues ? draw(rng, mdp.transition[s]![a]!) : -1;
      steps.push({
        state: index,
        action: a,
        propensity: mdp.logging[s]![a]!,
        reward,
        next: continues ? index + 1 : -1,
        visitor: `v${Math.floor(e / 2)}`,
        ts: index,
        decisionId: `d${index}`,
      });
      if (continues) s = following;
    }
  }
  return dataset(["stay", "push"], 2, states, steps);
}

/** A standard normal draw (Box–Muller). */
export function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function variance(values: readonly number[]): number {
  const m = mean(values);
  return values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1);
}
