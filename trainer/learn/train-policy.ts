import { decodePolicy } from "../../shared/policy/format.ts";
import { greedyAction } from "../../shared/policy/explore.ts";
import { compileInference } from "../../shared/policy/infer.ts";
import type { Exploration, IntervalEstimate, Policy, Precision, TrainingSummary } from "../../shared/policy/types.ts";
import type { Dataset, LoggedState } from "../data/dataset.ts";
import {
  DEFAULT_TWO_TOWER,
  dqnToPolicy,
  trainDqn,
  twoTowerToPolicy,
  type DqnOptions,
  type TwoTowerShape,
} from "./dqn/index.ts";
import {
  checkParity,
  exportPolicy,
  qtableReference,
  tfjsReference,
  type ParityReport,
  type ReferenceQ,
} from "./export-policy.ts";
import { evaluatePolicies, gateEstimates, type IntervalMethod, type PolicyComparison } from "../ope/index.ts";
import { policyMeta } from "./policy-meta.ts";
import { learnQTable, qtableToPolicy, type QLearningOptions } from "./qlearning.ts";
import { permutationImportance, featureGroups, type FeatureImportance, type LearningCurve } from "../report/index.ts";
import { controlTarget, policyAsQModel, policyAsTarget } from "../ope/target-policy.ts";
import type { Catalogue, ControlPolicy } from "../../shared/catalogue.ts";
import { encodePromotion } from "../../shared/promotion-features.ts";
import type { TrainedPromotion } from "../../shared/policy/types.ts";
import { FALLBACK_VERSION } from "../../shared/decide.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import {
  DEFAULT_SAFE_IMPROVEMENT_OPTIONS,
  LOG_PROBABILITY_EXPLORATION,
  learnSafeImprovement,
  type SafeImprovementOptions,
} from "./safe-improvement.ts";

/**
 * `safe` (safe improvement over the control, the default), `qtable` (Q-learning), `dqn` (one
 * Q-value per action) or `features` (the two-tower DQN over visitor and promotion features).
 */
export type Algorithm = "safe" | "qtable" | "dqn" | "features";
export const ALGORITHMS = ["safe", "qtable", "dqn", "features"] as const satisfies readonly Algorithm[];

/** Learners that run on tfjs (and so on the backend the trainer chose). */
export function usesTfjs(algorithm: Algorithm): boolean {
  return algorithm === "dqn" || algorithm === "features";
}
export const DEFAULT_ALGORITHM: Algorithm = "safe";

export interface TrainPolicyOptions {
  algorithm: Algorithm;
  gamma: number;
  seed: number;
  version: string;
  now: Date;
  exploration: Exploration;
  precision: Precision;
  /** Confidence level of the offline intervals. */
  level: number;
  interval: IntervalMethod;
  /** The published policy the candidate must beat; null when the edge serves its fallback, the control. */
  current: Policy | null;
  /** The operator's control: what the fallback serves, and what the safe learner improves on. */
  control: ControlPolicy;
  /** The catalogue the logs were decided under: the features learner encodes its promotions. */
  catalogue: Catalogue;
  /** The tfjs backend label, recorded in the header (the Q-table is plain TypeScript). */
  backend: string;
  qtable: Partial<QLearningOptions>;
  dqn: Partial<DqnOptions>;
  /** Sizes of the features learner's towers; default DEFAULT_TWO_TOWER. */
  towers?: Partial<Omit<TwoTowerShape, "promotions">>;
  safe: Partial<Omit<SafeImprovementOptions, "gamma" | "control">>;
  log: (line: string) => void;
}

export interface TrainedPolicy {
  policy: Policy;
  bytes: Uint8Array;
  parity: ParityReport;
  comparison: PolicyComparison;
  /** Null for a learner that does not iterate (safe improvement). */
  curve: LearningCurve | null;
  importance: FeatureImportance[];
  /** Transitions per second of the learning itself. */
  transitionsPerSecond: number;
}

interface Learned {
  policy: Policy;
  reference: ReferenceQ;
  curve: LearningCurve | null;
  transitionsPerSecond: number;
  dispose(): void;
}

/** Logged data for one run: what to learn from, and what to judge the result on. */
export interface TrainingData {
  train: Dataset;
  /** Later decisions held out of training (or the training data itself, when nothing is held out). */
  evaluation: Dataset;
}

/**
 * Learn, export, check parity, evaluate offline against the current policy, and stamp the policy
 * with its estimate and baseline. What is evaluated is the exported policy decoded again, with its
 * exploration, i.e. exactly what the edge would run.
 */
export function trainPolicy({ train: dataset, evaluation }: TrainingData, options: TrainPolicyOptions): TrainedPolicy {
  if (dataset.steps.length === 0) throw new Error("no usable logged decisions to train on");
  const learned = learn(dataset, options);
  try {
    const draft = decodePolicy(exportPolicy(learned.policy, options.precision));
    const current = options.current;
    options.log(`evaluating offline (γ = ${options.gamma}, ${evaluation.steps.length} decisions)`);
    const comparison = evaluatePolicies(evaluation, {
      candidate: policyAsTarget(draft, `${options.algorithm} candidate`),
      current: current
        ? policyAsTarget(current, current.meta.version)
        : controlTarget(options.control, dataset.actions),
      // The safe learner's table holds log-probabilities, not values: no reward model in it.
      ...(options.gamma === 0 && options.algorithm !== "safe" ? { qModel: policyAsQModel(draft) } : {}),
      gamma: options.gamma,
      level: options.level,
      seed: options.seed,
      interval: options.interval,
    });
    const { candidate, current: baseline } = gateEstimates(comparison);
    const policy: Policy = {
      model: draft.model,
      meta: {
        ...draft.meta,
        training: {
          ...trainingSummary(dataset, options, toInterval(candidate), toInterval(baseline)),
          improvement: {
            against: current?.meta.version ?? FALLBACK_VERSION,
            estimate: toInterval(comparison.improvement),
            ess: comparison.improvement.ess,
          },
        },
      },
    };
    const bytes = exportPolicy(policy, options.precision);
    const parity = checkParity(bytes, learned.reference, dataset.states);
    // A tabular policy reads only the coarse state key, so permuting feature slots cannot move it.
    const importance =
      policy.model.algorithm !== "qtable"
        ? permutationImportance(evaluation, greedyChooser(policy), featureGroups(dataset.slotNames), options.seed)
        : [];
    return {
      policy,
      bytes,
      parity,
      comparison,
      curve: learned.curve,
      importance,
      transitionsPerSecond: learned.transitionsPerSecond,
    };
  } finally {
    learned.dispose();
  }
}

function learn(dataset: Dataset, options: TrainPolicyOptions): Learned {
  const meta = policyMeta(dataset, {
    version: options.version,
    exploration: options.exploration,
    createdAt: options.now,
  });
  if (options.algorithm === "safe") {
    const result = learnSafeImprovement(dataset, DEFAULT_COMPILED_SPEC, {
      ...DEFAULT_SAFE_IMPROVEMENT_OPTIONS,
      // The share to explore: the epsilon asked for, spread by the learner over what is not ruled out.
      ...(options.exploration.type === "epsilon" ? { exploration: options.exploration.epsilon } : {}),
      ...options.safe,
      gamma: options.gamma,
      control: controlIndex(options.control, dataset.actions),
    });
    options.log(
      `safe improvement: deviates from the control "${options.control.action}" on ${(100 * result.deviationShare).toFixed(1)}% of logged decisions, ${fmtRate(result.transitionsPerSecond)}`,
    );
    return {
      policy: {
        meta: { ...meta, exploration: LOG_PROBABILITY_EXPLORATION },
        model: { algorithm: "qtable", stateCount: result.stateCount, q: result.q },
      },
      reference: qtableReference(result.q, result.actionCount),
      // One pass of counting: no iterations to plot.
      curve: null,
      transitionsPerSecond: result.transitionsPerSecond,
      dispose: () => {},
    };
  }
  if (options.algorithm === "qtable") {
    const result = learnQTable(dataset, {
      ...options.qtable,
      gamma: options.gamma,
      onSweep: (s) =>
        options.log(`sweep ${s.sweep}: max |ΔQ| ${s.maxDelta.toExponential(2)}, mean Q ${s.meanQ.toFixed(4)}`),
    });
    options.log(
      `Q-table: ${result.sweeps} sweeps, ${result.converged ? "converged" : "not converged"}, ${fmtRate(result.transitionsPerSecond)}`,
    );
    return {
      policy: qtableToPolicy(result, meta),
      reference: qtableReference(result.q, result.actionCount),
      curve: { unit: "sweep", loss: result.history.map((h) => h.maxDelta), meanQ: result.history.map((h) => h.meanQ) },
      transitionsPerSecond: result.transitionsPerSecond,
      dispose: () => {},
    };
  }
  const promotions = options.algorithm === "features" ? trainedPromotions(dataset, options.catalogue) : null;
  const result = trainDqn(dataset, {
    ...options.dqn,
    ...(promotions
      ? { towers: { ...DEFAULT_TWO_TOWER, ...options.towers, promotions: promotions.map((p) => p.features) } }
      : {}),
    gamma: options.gamma,
    seed: options.seed,
    onEpoch: (e) =>
      options.log(
        `epoch ${e.epoch}: loss ${e.loss.toFixed(5)}, mean Q ${e.meanQ.toFixed(4)}, ${fmtRate(e.transitionsPerSecond)}`,
      ),
  });
  return {
    policy: promotions ? twoTowerToPolicy(result.network, meta, promotions) : dqnToPolicy(result.network, meta),
    reference: tfjsReference(result.network),
    curve: { unit: "epoch", loss: result.history.map((h) => h.loss), meanQ: result.history.map((h) => h.meanQ) },
    transitionsPerSecond: result.transitionsPerSecond,
    dispose: () => result.network.dispose(),
  };
}

/** The logged actions as the catalogue's promotions, encoded, with how many logged steps showed each. */
function trainedPromotions(dataset: Dataset, catalogue: Catalogue): TrainedPromotion[] {
  const decisions = new Array<number>(dataset.actions.length).fill(0);
  for (const step of dataset.steps) decisions[step.action]!++;
  return dataset.actions.map((id, a) => {
    const promotion = catalogue.find((p) => p.id === id);
    if (!promotion) throw new RangeError(`the logged action "${id}" is not a promotion of the catalogue`);
    return { id, features: encodePromotion(promotion), decisions: decisions[a]! };
  });
}

function controlIndex(control: ControlPolicy, actions: readonly string[]): number {
  const at = actions.indexOf(control.action);
  if (at === -1) throw new RangeError(`the control "${control.action}" is not one of the logged actions [${actions}]`);
  return at;
}

function greedyChooser(policy: Policy): (state: LoggedState) => number {
  const q = compileInference(policy.model);
  return (state) => greedyAction(q(state.features, state.stateKey), state.eligible);
}

function trainingSummary(
  dataset: Dataset,
  options: TrainPolicyOptions,
  estimate: IntervalEstimate,
  baseline: IntervalEstimate,
): TrainingSummary {
  return {
    dataFrom: new Date(dataset.window.from).toISOString(),
    dataTo: new Date(dataset.window.to).toISOString(),
    decisions: dataset.steps.length,
    transitions: dataset.steps.filter((s) => s.next >= 0).length,
    gamma: options.gamma,
    backend: usesTfjs(options.algorithm) ? options.backend : "typescript",
    estimate,
    baseline: { version: options.current?.meta.version ?? FALLBACK_VERSION, estimate: baseline },
  };
}

function toInterval(e: IntervalEstimate): IntervalEstimate {
  return { estimator: e.estimator, value: e.value, lower: e.lower, upper: e.upper, level: e.level };
}

function fmtRate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString("en-US")} transitions/s`;
}
