/**
 * sim_new_promotion_value: what a promotion added after training earns over its first ~5,000
 * decisions, served by the features policy at once (no retraining: the new promotion scored from
 * its attributes and explored with the default new-promotion share).
 *
 * Method:
 * - The features policy is trained as in sim-quality: ~200,000 decisions logged by the uniform
 *   fallback (seed 2025), the simulator's γ, trainer defaults.
 * - The shop then adds NEW_PROMOTION (trainer/sim/model.ts: 15% off, whose true effects follow from
 *   its attributes). Value per visitor, E[Σ γ^t r], over seeds 1–5 × enough visitors for ~5,000
 *   decisions each, under the features policy serving the new catalogue.
 * - `retrained_value`: a per-action DQN retrained on the same data, i.e. the original logs plus the
 *   features policy's ~5,000 decisions with the new promotion (its only logs of it), scored on the
 *   same visitors. `oracle_value`: the full-information plan over the new catalogue, same visitors.
 */
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import { concatDatasets } from "../trainer/data/concat.ts";
import { selectBackend } from "../trainer/runtime/backend.ts";
import { policyChooser } from "../trainer/sim/chooser.ts";
import { DEFAULT_SIM_MODEL, NEW_PROMOTION, withPromotion } from "../trainer/sim/model.ts";
import { oracleChooser } from "../trainer/sim/oracle.ts";
import { datasetOfRun, simulateLogs, trainOnSimulatedLogs } from "../trainer/sim/pipeline.ts";
import { pairedDifference, scorePolicy, type PolicyScore, type ScoreOptions } from "../trainer/sim/score.ts";
import { dqnOptionsFor, LOG_SEED, logDecisions } from "./sim-quality.ts";
import { round } from "./stats.ts";
import type { Measurement } from "./types.ts";

const DECISIONS_AFTER = 5_000;

export const simNewPromotion: Measurement = {
  name: "sim-new-promotion",
  description:
    "a promotion added after training: the features policy serving it at once, against a retrained per-action DQN and the oracle",
  async run({ quick, log }) {
    const spec = DEFAULT_COMPILED_SPEC;
    const gamma = DEFAULT_SIM_MODEL.gamma;
    const decisions = logDecisions(quick);
    const dqn = dqnOptionsFor(quick);
    const backend = await selectBackend({ warn: log });
    const model = withPromotion(DEFAULT_SIM_MODEL, NEW_PROMOTION.promotion, NEW_PROMOTION.params);
    const { catalogue } = model;

    log(
      `sim-new-promotion: training the features policy on ~${decisions.toLocaleString("en-US")} uniform-fallback decisions`,
    );
    const logs = simulateLogs({ seed: LOG_SEED, decisions });
    const features = trainOnSimulatedLogs(logs.dataset, {
      algorithm: "features",
      gamma,
      dqn,
      backend: backend.label,
    }).policy;
    const servesNew = policyChooser(features, catalogue, spec, "features (new catalogue)");

    // Visitors per seed for about DECISIONS_AFTER decisions, from a pilot under the same policy.
    const pilot = scorePolicy(servesNew, { model, seeds: [101, 102], visitors: 500 });
    const visitors = Math.max(50, Math.round(DECISIONS_AFTER / pilot.pageViews));
    const scoring: ScoreOptions = { model, seeds: [1, 2, 3, 4, 5], visitors };
    log(
      `sim-new-promotion: scoring on 5 seeds × ${visitors} visitors (~${Math.round(visitors * pilot.pageViews)} decisions each)`,
    );
    const featuresScore = scorePolicy(servesNew, scoring);

    log("sim-new-promotion: retraining a per-action DQN on the same data (the original logs and the new decisions)");
    const after = simulateLogs({ seed: 9_001, visitors, policy: servesNew, model });
    const before = datasetOfRun(logs.run, model, spec);
    const retrained = trainOnSimulatedLogs(concatDatasets([before, after.dataset]), {
      algorithm: "dqn",
      gamma,
      dqn,
      backend: backend.label,
    }).policy;
    const retrainedScore = scorePolicy(policyChooser(retrained, catalogue, spec, "dqn (retrained)"), scoring);
    const oracleScore = scorePolicy(oracleChooser({ model }), scoring);

    const share = (s: PolicyScore) => round(s.actionShare[NEW_PROMOTION.promotion.id] ?? 0);
    const gap = pairedDifference(featuresScore, retrainedScore);
    return [
      {
        metric: "sim_new_promotion_value",
        value: round(featuresScore.value.mean),
        unit: "value/visitor",
        policy: "features",
        ci_lower: round(featuresScore.value.lower),
        ci_upper: round(featuresScore.value.upper),
        retrained_value: round(retrainedScore.value.mean),
        oracle_value: round(oracleScore.value.mean),
        ratio_to_oracle: round(featuresScore.value.mean / oracleScore.value.mean),
        retrained_ratio_to_oracle: round(retrainedScore.value.mean / oracleScore.value.mean),
        features_minus_retrained: round(gap.mean),
        features_minus_retrained_ci: [round(gap.lower), round(gap.upper)],
        new_promotion: NEW_PROMOTION.promotion.id,
        new_promotion_share: share(featuresScore),
        retrained_new_promotion_share: share(retrainedScore),
        decisions_per_seed: Math.round(visitors * featuresScore.pageViews),
        retrained_on: after.dataset.steps.length + before.steps.length,
        backend: backend.label,
        note: `[features] the new promotion ${NEW_PROMOTION.promotion.id} served at once from its attributes: ${round(featuresScore.value.mean)} per visitor (${share(featuresScore)} of page views on it) vs a DQN retrained with its first ${after.dataset.steps.length} decisions ${round(retrainedScore.value.mean)} (paired ${round(gap.mean)} [${round(gap.lower)}, ${round(gap.upper)}]); oracle ${round(oracleScore.value.mean)}`,
      },
    ];
  },
};
