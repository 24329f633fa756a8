/**
 * The promotions simulator: latent visitor segments, exact expected rewards, long-term dynamics
 * (coupon conditioning, fatigue, churn, loyalty), a value-iteration oracle, scoring, exports, and an
 * HTTP driver for a running Worker. See README.md beside this file for the model and its parameters.
 */
export {
  DEFAULT_SIM_MODEL,
  validateModel,
  type SimModel,
  type SegmentParams,
  type PromotionParams,
  type CountryParams,
} from "./model.ts";
export type { LatentState } from "./latent.ts";
export { respond, type Response } from "./response.ts";
export {
  engineChooser,
  fixedChooser,
  greedyChooser,
  policyChooser,
  controlChooser,
  uniformChooser,
  type Chooser,
  type PageView,
} from "./chooser.ts";
export {
  MAX_OUTCOME_DELAY_MS,
  OUTCOME_DELAY_MS,
  simulateTraffic,
  visitorHash,
  type SimulateOptions,
  type SimulatedStep,
  type SimulationResult,
  type VisitorOutcome,
} from "./simulate.ts";
export {
  myopicOracleChooser,
  oracleChooser,
  solveLatentMdp,
  type LatentRule,
  type LatentSolution,
  type SolveOptions,
} from "./oracle.ts";
export {
  bestFixedPromotion,
  interval,
  pairedDifference,
  scorePolicy,
  type Interval,
  type PolicyScore,
  type ScoreOptions,
} from "./score.ts";
export {
  evalRowsOf,
  logRowsOf,
  readEvalJsonl,
  scoreOnEvalSet,
  writeEvalJsonl,
  writeLogsJsonl,
  type EvalRow,
  type EvalScore,
  type LatentSnapshot,
  type LogRow,
} from "./write-exports.ts";
export { driveWorker, USER_AGENTS, type DriveOptions, type DriveReport } from "./drive.ts";
