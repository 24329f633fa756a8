export { empiricalBernsteinInterval, type TermRange } from "./bernstein.ts";
export { bootstrapInterval, bootstrapIntervals, quantile, type BootstrapOptions, type Interval } from "./bootstrap.ts";
export {
  DEFAULT_INTERVAL_METHOD,
  evaluatePolicies,
  gateEstimates,
  type EstimateSummary,
  type EvaluationOptions,
  type IntervalMethod,
  type PolicyComparison,
  type PolicyEvaluation,
  type PolicyRole,
} from "./compare.ts";
export { visitorEpisodes, type VisitorEpisodes } from "./episodes.ts";
export {
  effectiveSampleSize,
  type EstimatorName,
  type Horizon,
  type PointEstimate,
  type Resamplable,
} from "./estimate.ts";
export { publishGate, type GateDecision, type GateOptions } from "./gate.ts";
export { importanceRatios } from "./importance.ts";
export { doublyRobust, ips, onPolicyValue, snips } from "./one-step.ts";
export { onPolicyReturn, pdwis } from "./pdwis.ts";
export { DEFAULT_REWARD_MODEL_OPTIONS, fitRewardModel, type RewardModelOptions } from "./reward-model.ts";
