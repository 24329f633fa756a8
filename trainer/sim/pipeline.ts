import { DEFAULT_COMPILED_SPEC, type CompiledFeatureSpec } from "../../shared/features.ts";
import { DEFAULT_CATALOGUE, DEFAULT_CONTROL } from "../../shared/catalogue.ts";
import type { Exploration, Policy } from "../../shared/policy/types.ts";
import type { SafeImprovementOptions } from "../learn/safe-improvement.ts";
import { buildDataset } from "../data/build-dataset.ts";
import type { Dataset } from "../data/dataset.ts";
import type { DqnOptions, TwoTowerShape } from "../learn/dqn/index.ts";
import { contextEncoder } from "../data/encoders.ts";
import { DEFAULT_EXPLORATION } from "../learn/policy-meta.ts";
import type { QLearningOptions } from "../learn/qlearning.ts";
import { trainPolicy, type Algorithm, type TrainedPolicy } from "../learn/train-policy.ts";
import { uniformChooser, type Chooser } from "./chooser.ts";
import { DEFAULT_SIM_MODEL, type SimModel } from "./model.ts";
import { MAX_OUTCOME_DELAY_MS, simulateTraffic, type SimulationResult } from "./simulate.ts";

/**
 * The simulator's logs as the trainer sees them: the decision and outcome rows a run would have put
 * in D1, through the trainer's own {@link buildDataset}. This is the path a policy trained on the
 * simulator takes (simulate → logs → dataset → learn → export → run in the shared decision engine),
 * so that what the simulator then scores is what a deployment would have served.
 */

export interface SimulatedLogs {
  run: SimulationResult;
  dataset: Dataset;
}

export interface SimulatedLogOptions {
  seed: number;
  /** Visitors to simulate; or give `decisions` and the visitor count is sized to reach about that many. */
  visitors?: number;
  /** About this many logged decisions (page views): the visitors are sized from a pilot run. */
  decisions?: number;
  /** Who logs: default the edge's uniform fallback, what a fresh deployment logs before any policy exists. */
  policy?: Chooser;
  model?: SimModel;
  spec?: CompiledFeatureSpec;
}

/** Joins a recorded run's rows into a dataset; `now` is late enough that every outcome has landed. */
export function datasetOfRun(
  run: SimulationResult,
  model: SimModel = DEFAULT_SIM_MODEL,
  spec: CompiledFeatureSpec = DEFAULT_COMPILED_SPEC,
): Dataset {
  if (run.steps.length === 0) throw new RangeError("the run recorded no steps (simulate with record: true)");
  const decisions = run.steps.map((step) => step.decision);
  const outcomes = run.steps.flatMap((step) => step.outcomes);
  const last = decisions.reduce((t, d) => Math.max(t, d.ts), 0);
  return buildDataset(decisions, outcomes, {
    catalogue: model.catalogue,
    reward: model.reward,
    // Every outcome lands within MAX_OUTCOME_DELAY_MS: with this window and `now`, the trainer's
    // rewards are exactly the simulator's and no decision is held back.
    now: last + MAX_OUTCOME_DELAY_MS + 1,
    attributionWindowMs: MAX_OUTCOME_DELAY_MS,
    encoder: contextEncoder(
      spec,
      model.catalogue.map((p) => p.id),
    ),
  });
}

/** Page views per visitor of a short pilot run under `policy`, to size a run by decisions. */
function pageViewsPerVisitor(policy: Chooser, model: SimModel, spec: CompiledFeatureSpec, seed: number): number {
  const pilot = simulateTraffic({ seed, visitors: 2000, policy, model, spec, record: false });
  return pilot.visitors.reduce((a, v) => a + v.pageViews, 0) / pilot.visitors.length;
}

/** Simulated logs (default: the uniform fallback's), as a recorded run and the dataset built from it. */
export function simulateLogs(options: SimulatedLogOptions): SimulatedLogs {
  const model = options.model ?? DEFAULT_SIM_MODEL;
  const spec = options.spec ?? DEFAULT_COMPILED_SPEC;
  const policy = options.policy ?? uniformChooser(model.catalogue, spec);
  let visitors = options.visitors;
  if (visitors === undefined) {
    if (options.decisions === undefined) throw new RangeError("give visitors or decisions");
    // The pilot uses its own seed, so that it shares no visitors with the run itself.
    visitors = Math.max(
      1,
      Math.round(options.decisions / pageViewsPerVisitor(policy, model, spec, options.seed + 7919)),
    );
  }
  const run = simulateTraffic({ seed: options.seed, visitors, policy, model, spec, record: true });
  return { run, dataset: datasetOfRun(run, model, spec) };
}

export interface TrainOnSimulatorOptions {
  algorithm: Algorithm;
  gamma: number;
  seed?: number;
  /** Default sim-<algorithm>-g<gamma>. */
  version?: string;
  /** What the policy ships with; default the trainer's {@link DEFAULT_EXPLORATION}. */
  exploration?: Exploration;
  qtable?: Partial<QLearningOptions>;
  dqn?: Partial<DqnOptions>;
  towers?: Partial<Omit<TwoTowerShape, "promotions">>;
  safe?: Partial<Omit<SafeImprovementOptions, "gamma" | "control">>;
  /** The published policy the candidate must beat; default none (the fallback, the control). */
  current?: Policy | null;
  /** The tfjs backend's label, for the header (the Q-table ignores it). */
  backend?: string;
  /** Bootstrap replicates of the offline evaluation that trainPolicy runs alongside. Default 200. */
  replicates?: number;
  /** Decisions the offline evaluation runs on; default the training data itself. */
  evaluation?: Dataset;
  log?: (line: string) => void;
}

/**
 * Learns a policy from simulated logs through the trainer's own {@link trainPolicy} (learn, export,
 * decode, parity check, offline evaluation), as `promo train` does; the policy it returns is the
 * exported one decoded again, i.e. exactly what the edge would load.
 */
export function trainOnSimulatedLogs(dataset: Dataset, options: TrainOnSimulatorOptions): TrainedPolicy {
  const version = options.version ?? `sim-${options.algorithm}-g${options.gamma}`;
  return trainPolicy(
    { train: dataset, evaluation: options.evaluation ?? dataset },
    {
      algorithm: options.algorithm,
      gamma: options.gamma,
      seed: options.seed ?? 1,
      version,
      now: new Date(dataset.window.to),
      exploration: options.exploration ?? DEFAULT_EXPLORATION,
      precision: "float32",
      level: 0.95,
      interval: { method: "bootstrap", replicates: options.replicates ?? 200 },
      current: options.current ?? null,
      control: DEFAULT_CONTROL,
      catalogue: DEFAULT_CATALOGUE,
      backend: options.backend ?? "typescript",
      qtable: options.qtable ?? {},
      dqn: options.dqn ?? {},
      towers: options.towers ?? {},
      safe: options.safe ?? {},
      log: options.log ?? (() => {}),
    },
  );
}
