/** How a policy turns Q-values into action probabilities. `floor` is the least probability any eligible action gets. */
export type Exploration =
  { type: "epsilon"; epsilon: number; floor: number } | { type: "softmax"; temperature: number; floor: number };

export interface IntervalEstimate {
  estimator: string;
  value: number;
  lower: number;
  upper: number;
  /** Confidence level of [lower, upper], e.g. 0.95. */
  level: number;
}

/** Where a policy came from, for operators (`GET /v1/policy`, `promo policies`). */
export interface TrainingSummary {
  dataFrom: string;
  dataTo: string;
  decisions: number;
  transitions: number;
  gamma: number;
  backend: string;
  /** Offline estimate of the policy's value per decision, with its interval. */
  estimate: IntervalEstimate | null;
  /**
   * The policy that was current when this one was trained, estimated on the same logs: what the
   * publish gate compares the candidate's lower bound with. Absent in policies that had nothing to beat.
   */
  baseline?: { version: string; estimate: IntervalEstimate } | null;
  /**
   * The candidate minus the policy it would replace (`against`: a version, or "fallback"), paired on
   * the same logged episodes, with the effective sample size behind it: what the publish gate decides on.
   */
  improvement?: { against: string; estimate: IntervalEstimate; ess: number } | null;
}

/** The descriptive part of a policy, shared by every algorithm. */
export interface PolicyMeta {
  version: string;
  featureSpecHash: string;
  actions: readonly string[];
  exploration: Exploration;
  createdAt: string;
  training: TrainingSummary | null;
}

/** A dense layer; the kernel is row-major [inputs][outputs], as tfjs stores it. */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  kernel: Float32Array;
  bias: Float32Array;
}

/** A promotion a features policy was trained with: its encoded attributes, and how often the logs showed it. */
export interface TrainedPromotion {
  id: string;
  features: Float32Array;
  /** Logged decisions that showed it in the training data: few means its Q-value rests on its attributes alone. */
  decisions: number;
}

/**
 * Q(s, a) over visitor and promotion features: u = visitor(s), v = promotion(features of a), and
 * Q = u · v[0..d) + v[d] (the promotion tower's last output is the promotion's own offset). Both
 * towers are ReLU MLPs with a linear last layer. The Q-values are not tied to fixed action ids, so
 * the policy can score any promotion whose attributes it can encode.
 */
export interface FeaturesModel {
  algorithm: "features";
  /** How the promotions' features were encoded (shared/promotion-features.ts). */
  promotionEncoding: string;
  visitor: readonly DenseLayer[];
  promotion: readonly DenseLayer[];
  /** The training catalogue, in `meta.actions` order. */
  promotions: readonly TrainedPromotion[];
}

/** Tabular and per-action network models: ReLU after every layer but the last, which is linear (one Q-value per action). */
export type PolicyModel =
  | { algorithm: "qtable"; stateCount: number; q: Float32Array }
  | { algorithm: "dqn"; layers: readonly DenseLayer[] }
  | FeaturesModel;

export interface Policy {
  meta: PolicyMeta;
  model: PolicyModel;
}

export type Precision = "float32" | "int8";
