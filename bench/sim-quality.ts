/**
 * sim_value_ratio_to_oracle (one figure per policy, told apart by the `policy` field),
 * sim_oracle_value, sim_value_margin_over_baselines: the quality target of docs/figures.md, "learned
 * policy on the simulator ≥ 90% of the oracle's long-term value; above myopic bandit, best fixed
 * promotion, and uniform".
 *
 * Method (see trainer/sim/README.md, "Learning from simulated logs"):
 * - Logs: about 200,000 decisions (20,000 with --quick) of simulated visitors served by the edge's
 *   uniform fallback, what a fresh deployment logs before any policy exists, joined into a Dataset
 *   by the trainer's buildDataset (seed 2025: none of its visitors is a scoring visitor).
 * - Learners, all on those same logs, through the trainer's trainPolicy (learn, export, decode):
 *   the myopic bandit is the learned policy with γ = 0 (tabular and DQN); the planners are the
 *   Q-table, the DQN and the two-tower features network with the simulator's γ. Trainer defaults otherwise (with --quick, fewer DQN
 *   epochs). Each ships with the trainer's default exploration, and that is what is scored (the
 *   greedy policy's ratio travels alongside as `greedy_ratio`).
 * - Scoring: scorePolicy, every policy on the same seeds 1..5 × 10,000 visitors (common random
 *   numbers), long-term value per visitor E[Σ γ^t r_t] with γ = the simulator's. Ratios divide by
 *   the full-information oracle's value on the same seeds; their interval is the policy's own 95%
 *   interval over seeds divided by the oracle's mean. Comparisons between policies use paired
 *   differences (same seeds, same visitors), which are much tighter.
 */
import { DEFAULT_CONTROL } from "../shared/catalogue.ts";
import {
  compileFeatureSpec,
  DEFAULT_COMPILED_SPEC,
  DEFAULT_FEATURE_SPEC,
  withProfileFields,
} from "../shared/features.ts";
import { EXAMPLE_PROFILE_FIELDS } from "../shared/profile.ts";
import type { Dataset } from "../trainer/data/dataset.ts";
import type { Exploration } from "../shared/policy/types.ts";
import { selectBackend } from "../trainer/runtime/backend.ts";
import { GREEDY_EXPLORATION, withExploration } from "../trainer/learn/policy-meta.ts";
import { splitByTime } from "../trainer/data/split.ts";
import { usesTfjs, type Algorithm } from "../trainer/learn/train-policy.ts";
import { controlChooser, policyChooser, uniformChooser } from "../trainer/sim/chooser.ts";
import { DEFAULT_SIM_MODEL } from "../trainer/sim/model.ts";
import { myopicOracleChooser, oracleChooser } from "../trainer/sim/oracle.ts";
import { simulateLogs, trainOnSimulatedLogs } from "../trainer/sim/pipeline.ts";
import {
  bestFixedPromotion,
  pairedDifference,
  scorePolicy,
  type Interval,
  type PolicyScore,
  type ScoreOptions,
} from "../trainer/sim/score.ts";
import { round } from "./stats.ts";
import { withTarget, type Measurement, type Metric } from "./types.ts";

/** The uniform-fallback logs every learner here trains on; sim-new-promotion trains on the same. */
export const LOG_SEED = 2025;
export const logDecisions = (quick: boolean) => (quick ? 20_000 : 200_000);
/** Trainer defaults, with fewer epochs in a quick run. */
export const dqnOptionsFor = (quick: boolean) => (quick ? { epochs: 2 } : {});
const TARGET_RATIO = 0.9;

interface Learner {
  name: string;
  algorithm: Algorithm;
  gamma: number;
  role: "myopic-bandit" | "learned";
  /** Reads the shop's profile fields (EXAMPLE_PROFILE_FIELDS) too: the same logs, with the profile each context carried. */
  profile?: true;
}

interface Scored {
  name: string;
  role: "reference" | "baseline" | "myopic-bandit" | "learned";
  score: PolicyScore;
  extra: Record<string, unknown>;
}

export const simQuality: Measurement = {
  name: "sim-quality",
  description:
    "learned policies (Q-table, DQN, features; γ = 0 and γ > 0) from 200k uniform-fallback logs, scored on the simulator against the oracle",
  async run({ quick, log }) {
    const model = DEFAULT_SIM_MODEL;
    const { catalogue } = model;
    const spec = DEFAULT_COMPILED_SPEC;
    const gamma = model.gamma;
    const decisions = logDecisions(quick);
    const scoring: ScoreOptions = quick
      ? { seeds: [1, 2, 3], visitors: 2_000 }
      : { seeds: [1, 2, 3, 4, 5], visitors: 10_000 };
    const dqnOptions = dqnOptionsFor(quick);
    const scoringText = `${scoring.seeds!.length} seeds × ${scoring.visitors!.toLocaleString("en-US")} visitors`;

    log(`sim-quality: scoring the oracle, uniform, every fixed promotion and the myopic oracle (${scoringText})`);
    const oracle = scorePolicy(oracleChooser(), scoring);
    const scored: Scored[] = [];
    const uniform = scorePolicy(uniformChooser(catalogue, spec), scoring);
    scored.push({
      name: "uniform",
      role: "baseline",
      score: uniform,
      extra: { what: "the edge's fallback: uniform over eligible promotions" },
    });
    const controlExplore = scorePolicy(controlChooser(catalogue, spec, DEFAULT_CONTROL), scoring);
    const controlAlone = scorePolicy(controlChooser(catalogue, spec, { ...DEFAULT_CONTROL, exploration: 0 }), scoring);
    scored.push({
      name: "control-explore",
      role: "baseline",
      score: controlExplore,
      extra: {
        what: `the edge's fallback: the control "${DEFAULT_CONTROL.action}", exploring ${DEFAULT_CONTROL.exploration} of page views`,
      },
    });
    const best = bestFixedPromotion(scoring);
    scored.push({
      name: `best-fixed (${best.actionId})`,
      role: "baseline",
      score: best.score,
      extra: {
        what: "the best single promotion, chosen on these very scores (so slightly optimistic)",
        fixed_ratios: Object.fromEntries(best.all.map((s) => [s.policy, round(s.value.mean / oracle.value.mean)])),
      },
    });
    scored.push({
      name: "myopic-oracle",
      role: "reference",
      score: scorePolicy(myopicOracleChooser(model), scoring),
      extra: { what: "full information, γ = 0: not learnable from logs; shows what foresight is worth" },
    });

    log(
      `sim-quality: simulating about ${decisions.toLocaleString("en-US")} decisions logged by the uniform fallback (seed ${LOG_SEED})`,
    );
    const { dataset } = simulateLogs({ seed: LOG_SEED, decisions });
    // trainPolicy also estimates the policy offline; on the last 10% only, to keep that cheap. The
    // estimate is reported beside the true value, but nothing here depends on it.
    const evaluation = splitByTime(dataset, 0.1).holdout;
    const backend = await selectBackend({ warn: log });
    const common = { decisions: dataset.steps.length, log_seed: LOG_SEED, logged_by: "uniform fallback" };

    const learners: Learner[] = [
      { name: "myopic-bandit-qtable", algorithm: "qtable", gamma: 0, role: "myopic-bandit" },
      { name: "myopic-bandit-dqn", algorithm: "dqn", gamma: 0, role: "myopic-bandit" },
      { name: "qtable", algorithm: "qtable", gamma, role: "learned" },
      { name: "dqn", algorithm: "dqn", gamma, role: "learned" },
      // The two-tower network over visitor and promotion features, without and with the shop's profile fields.
      { name: "features", algorithm: "features", gamma, role: "learned" },
      { name: "features+profile", algorithm: "features", gamma, role: "learned", profile: true },
    ];
    // The same seed, policy and sizing give the same visitors, decisions and outcomes: only the
    // contexts gain the profile (drawn from a stream of its own), and the features encode it.
    const profileSpec = compileFeatureSpec(withProfileFields(DEFAULT_FEATURE_SPEC, EXAMPLE_PROFILE_FIELDS));
    let profileLogs: { dataset: Dataset; evaluation: Dataset } | null = null;
    const logsFor = (learner: Learner) => {
      if (!learner.profile) return { dataset, evaluation, spec, scoring };
      if (profileLogs === null) {
        const withProfile = simulateLogs({ seed: LOG_SEED, decisions, spec: profileSpec }).dataset;
        if (withProfile.steps.length !== dataset.steps.length) {
          throw new Error(
            `the logs with profiles have ${withProfile.steps.length} decisions, not ${dataset.steps.length}`,
          );
        }
        profileLogs = { dataset: withProfile, evaluation: splitByTime(withProfile, 0.1).holdout };
      }
      return { ...profileLogs, spec: profileSpec, scoring: { ...scoring, spec: profileSpec } };
    };
    for (const learner of learners) {
      const started = performance.now();
      const logs = logsFor(learner);
      log(`sim-quality: training ${learner.name} (γ = ${learner.gamma}) on ${logs.dataset.steps.length} decisions`);
      const trained = trainOnSimulatedLogs(logs.dataset, {
        algorithm: learner.algorithm,
        gamma: learner.gamma,
        dqn: dqnOptions,
        backend: backend.label,
        evaluation: logs.evaluation,
      });
      const trainSeconds = (performance.now() - started) / 1000;
      const shipped = trained.policy;
      const score = scorePolicy(policyChooser(shipped, catalogue, logs.spec, learner.name), logs.scoring);
      const greedy = scorePolicy(
        policyChooser(withExploration(shipped, GREEDY_EXPLORATION), catalogue, logs.spec, `${learner.name} (greedy)`),
        logs.scoring,
      );
      const estimate = shipped.meta.training?.estimate;
      scored.push({
        name: learner.name,
        role: learner.role,
        score,
        extra: {
          algorithm: learner.algorithm,
          learner_gamma: learner.gamma,
          ...(learner.profile ? { profile_fields: EXAMPLE_PROFILE_FIELDS.map((f) => f.name) } : {}),
          backend: usesTfjs(learner.algorithm) ? backend.label : "typescript",
          exploration: explorationText(shipped.meta.exploration),
          greedy_ratio: round(greedy.value.mean / oracle.value.mean),
          train_s: round(trainSeconds),
          learn_transitions_per_s: round(trained.transitionsPerSecond),
          ope_estimate: estimate
            ? `${estimate.estimator} ${round(estimate.value)} [${round(estimate.lower)}, ${round(estimate.upper)}] per decision-episode on the last 10% of the logs`
            : null,
          ...common,
        },
      });
      log(
        `  ${learner.name}: ${round(score.value.mean / oracle.value.mean)} of the oracle (greedy ${round(greedy.value.mean / oracle.value.mean)}), ${round(trainSeconds)} s`,
      );
    }

    const metrics = summarise(oracle, scored, { gamma, scoringText, quick });
    const withProfile = scored.find((s) => s.name === "features+profile");
    const withoutProfile = scored.find((s) => s.name === "features");
    if (withProfile && withoutProfile) {
      const worth = pairedDifference(withProfile.score, withoutProfile.score);
      metrics.push({
        metric: "sim_profile_worth_ratio",
        value: round(worth.mean / oracle.value.mean),
        unit: "ratio",
        policy: "features+profile",
        against: "features",
        ci_lower: round(worth.lower / oracle.value.mean),
        ci_upper: round(worth.upper / oracle.value.mean),
        scoring: scoringText,
        note: `what the shop's profile fields (${EXAMPLE_PROFILE_FIELDS.map((f) => f.name).join(", ")}) are worth to the features learner: features+profile minus features, paired on the same visitors, in oracle units`,
      });
    }
    const cost = pairedDifference(controlExplore, controlAlone);
    metrics.push({
      metric: "exploration_cost_ratio",
      value: round(cost.mean / oracle.value.mean),
      unit: "ratio",
      ci_lower: round(cost.lower / oracle.value.mean),
      ci_upper: round(cost.upper / oracle.value.mean),
      exploration: DEFAULT_CONTROL.exploration,
      control: DEFAULT_CONTROL.action,
      scoring: scoringText,
      note: `the control with its default exploration (${DEFAULT_CONTROL.exploration}) minus the control alone, paired on the same visitors, in oracle units`,
    });
    return metrics;
  },
};

function explorationText(e: Exploration): string {
  return e.type === "epsilon"
    ? `epsilon ${e.epsilon}, floor ${e.floor}`
    : `softmax T=${e.temperature}, floor ${e.floor}`;
}

function ratioInterval(i: Interval, oracleMean: number) {
  return { ci_lower: round(i.lower / oracleMean), ci_upper: round(i.upper / oracleMean) };
}

function summarise(
  oracle: PolicyScore,
  scored: Scored[],
  context: { gamma: number; scoringText: string; quick: boolean },
): Metric[] {
  const o = oracle.value.mean;
  const ratio = (s: PolicyScore) => s.value.mean / o;
  const shares = (s: PolicyScore) =>
    Object.fromEntries(Object.entries(s.actionShare).map(([id, share]) => [id, round(share)]));
  const metrics: Metric[] = [
    {
      metric: "sim_oracle_value",
      value: round(o),
      unit: "value/visitor",
      policy: "oracle",
      ci_lower: round(oracle.value.lower),
      ci_upper: round(oracle.value.upper),
      gamma: context.gamma,
      scoring: context.scoringText,
      action_share: shares(oracle),
      note: `full-information plan (value iteration over the latent state), E[Σ γ^t r] per visitor, γ = ${context.gamma}, ${context.scoringText}; every ratio below divides by this`,
    },
  ];

  const baselines = scored.filter((s) => s.role === "baseline" || s.role === "myopic-bandit");
  for (const s of scored) {
    const base: Metric = {
      metric: "sim_value_ratio_to_oracle",
      value: round(ratio(s.score)),
      unit: "ratio",
      policy: s.name,
      role: s.role,
      ...ratioInterval(s.score.value, o),
      value_per_visitor: round(s.score.value.mean),
      paired_gap_to_oracle: round(pairedDifference(s.score, oracle).mean / o),
      action_share: shares(s.score),
      scoring: context.scoringText,
      ...s.extra,
      note:
        `[${s.name}] ${round(ratio(s.score))} of the oracle (95% CI ${round(s.score.value.lower / o)}–${round(s.score.value.upper / o)})` +
        (s.role === "learned" ? `, greedy ${s.extra.greedy_ratio}` : ""),
    };
    metrics.push(s.role === "learned" ? withTarget(base, ">=", TARGET_RATIO) : base);
  }

  // "Above myopic bandit, best fixed promotion, and uniform": each learned policy against the
  // strongest of them, paired on the same visitors. Met when the whole 95% interval is above 0.
  for (const learned of scored.filter((s) => s.role === "learned")) {
    const versus = baselines.map((b) => ({ name: b.name, diff: pairedDifference(learned.score, b.score) }));
    const strongest = versus.reduce((a, b) => (b.diff.mean < a.diff.mean ? b : a));
    const lower = strongest.diff.lower / o;
    metrics.push({
      metric: "sim_value_margin_over_baselines",
      value: round(strongest.diff.mean / o),
      unit: "ratio",
      policy: learned.name,
      against: strongest.name,
      ci_lower: round(lower),
      ci_upper: round(strongest.diff.upper / o),
      target: "> 0 (paired 95% CI)",
      met: lower > 0,
      paired_vs: Object.fromEntries(versus.map((v) => [v.name, round(v.diff.mean / o)])),
      note:
        `[${learned.name}] minus the strongest baseline (${strongest.name}), paired on the same visitors, in oracle units: ` +
        versus
          .map((v) => `${v.name} ${signed(v.diff.mean / o)} [${signed(v.diff.lower / o)}, ${signed(v.diff.upper / o)}]`)
          .join("; ") +
        (context.quick ? " (quick run: 20k decisions, fewer epochs; not the figure of record)" : ""),
    });
  }
  return metrics;
}

function signed(x: number): string {
  const r = round(x);
  return r > 0 ? `+${r}` : String(r);
}
