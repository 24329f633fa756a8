import { DEFAULT_CONTROL, type ControlPolicy } from "../../shared/catalogue.ts";
import { DEFAULT_COMPILED_SPEC } from "../../shared/features.ts";
import type { Policy } from "../../shared/policy/types.ts";
import { concatDatasets } from "../data/concat.ts";
import type { Dataset } from "../data/dataset.ts";
import { splitByTime } from "../data/split.ts";
import { gatePublication, type GateDecision } from "../ope/gate.ts";
import type { SafeImprovementOptions } from "../learn/safe-improvement.ts";
import { policyChooser } from "./chooser.ts";
import { DEFAULT_SIM_MODEL } from "./model.ts";
import { simulateLogs, trainOnSimulatedLogs } from "./pipeline.ts";

/**
 * The deployment loop on the simulator, as policy iteration: serve the current policy (at first
 * the fallback, the control with its exploration), log, train the default learner on every round's
 * logs so far, judge the candidate with the publish gate on every round's held-out logs (never
 * trained on; each decision carries its own logging propensity, so older rounds' logs judge the
 * candidate as well as the latest, and the gate's interval narrows as rounds add up), and publish
 * it only if the gate lets it through. Nothing is forced.
 */
export interface ImprovementLoopOptions {
  /** Seeds the visitors of every round (round r uses logSeed·1000 + r). */
  logSeed: number;
  rounds: number;
  /** Decisions logged per round: the traffic between two retrains. */
  decisionsPerRound: number;
  /** Share of each round's latest decisions held out of training, to gate on. */
  holdout: number;
  control?: ControlPolicy;
  /** The safe learner's settings, where they differ from its defaults. */
  safe?: Partial<Omit<SafeImprovementOptions, "gamma" | "control">>;
  /** Bootstrap replicates of the gate's interval. */
  replicates?: number;
  log?: (line: string) => void;
}

export interface LoopRound {
  round: number;
  /** The version served while this round's logs were collected ("fallback" for the control). */
  served: string;
  decisions: number;
  candidate: Policy;
  gate: GateDecision;
  /** What is current at the end of the round: the candidate if published, else what was served. */
  current: Policy | null;
}

export function runImprovementLoop(options: ImprovementLoopOptions): LoopRound[] {
  const { catalogue } = DEFAULT_SIM_MODEL;
  const control = options.control ?? DEFAULT_CONTROL;
  const log = options.log ?? (() => {});
  const learnedFrom: Dataset[] = [];
  const heldOut: Dataset[] = [];
  const rounds: LoopRound[] = [];
  let current: Policy | null = null;
  for (let round = 1; round <= options.rounds; round++) {
    const served = current?.meta.version ?? "fallback";
    const chooser = policyChooser(current, catalogue, DEFAULT_COMPILED_SPEC, served, control);
    const { dataset } = simulateLogs({
      seed: options.logSeed * 1000 + round,
      decisions: options.decisionsPerRound,
      policy: chooser,
    });
    const { train, holdout } = splitByTime(dataset, options.holdout);
    learnedFrom.push(train);
    heldOut.push(holdout);
    const candidate: Policy = trainOnSimulatedLogs(concatDatasets(learnedFrom), {
      algorithm: "safe",
      gamma: DEFAULT_SIM_MODEL.gamma,
      version: `loop-${options.logSeed}-r${round}`,
      evaluation: concatDatasets(heldOut),
      current,
      replicates: options.replicates ?? 200,
      ...(options.safe ? { safe: options.safe } : {}),
    }).policy;
    const gate = gatePublication(candidate, current?.meta.version ?? null, false);
    if (gate.allowed) current = candidate;
    log(
      `round ${round} (served ${served}, ${dataset.steps.length} decisions): ${gate.allowed ? "published" : "kept"}; ${gate.reason}`,
    );
    rounds.push({ round, served, decisions: dataset.steps.length, candidate, gate, current });
  }
  return rounds;
}
