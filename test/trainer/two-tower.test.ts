import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_CATALOGUE } from "../../shared/catalogue.ts";
import { greedyAction } from "../../shared/policy/explore.ts";
import { decodePolicy, encodePolicy } from "../../shared/policy/format.ts";
import { compileInference } from "../../shared/policy/infer.ts";
import { encodePromotion } from "../../shared/promotion-features.ts";
import { createRng } from "../../shared/rng.ts";
import { buildTwoTowerNetwork, trainDqn, twoTowerToPolicy } from "../../trainer/learn/dqn/index.ts";
import { checkParity, tfjsReference } from "../../trainer/learn/export-policy.ts";
import { policyMeta } from "../../trainer/learn/policy-meta.ts";
import { selectBackend } from "../../trainer/runtime/backend.ts";
import { bestAction, syntheticBandit } from "./helpers/datasets.ts";

const catalogue = DEFAULT_CATALOGUE.slice(0, 4);
const promotions = catalogue.map(encodePromotion);
const trainedPromotions = catalogue.map((p, i) => ({ id: p.id, features: promotions[i]!, decisions: 100 }));

// Four promotions, as the first four of the default catalogue; the best one depends on the context.
const bandit = {
  ...syntheticBandit({
    contexts: 6,
    actions: 4,
    steps: 4000,
    noiseWidth: 3,
    rewardNoise: 0.5,
    ineligibleRate: 0.25,
    seed: 21,
  }),
  actions: catalogue.map((p) => p.id),
};

function predict(network: tf.LayersModel, rows: Float32Array[]): Float32Array {
  return tf.tidy(() => {
    const width = rows[0]!.length;
    const input = new Float32Array(rows.length * width);
    rows.forEach((row, i) => input.set(row, i * width));
    return new Float32Array((network.predict(tf.tensor2d(input, [rows.length, width])) as tf.Tensor2D).dataSync());
  });
}

beforeAll(() => selectBackend({ force: "wasm" }));

describe("two-tower network", () => {
  test("exports to a features policy whose shared inference computes what tfjs predicts", () => {
    const network = buildTwoTowerNetwork(
      9,
      { visitorHidden: [12], promotionHidden: [6], embedding: 5, promotions },
      createRng(3),
    );
    const policy = twoTowerToPolicy(
      network,
      policyMeta({ actions: bandit.actions, featureSpecHash: "h" }, { version: "v" }),
      trainedPromotions,
    );
    expect(policy.model.algorithm).toBe("features");
    if (policy.model.algorithm !== "features") return;
    expect(policy.model.visitor.map((l) => [l.inputs, l.outputs])).toEqual([
      [9, 12],
      [12, 5],
    ]);
    expect(policy.model.promotion.map((l) => [l.inputs, l.outputs])).toEqual([
      [promotions[0]!.length, 6],
      [6, 6],
    ]);

    const rng = createRng(8);
    const rows = Array.from({ length: 50 }, () => Float32Array.from({ length: 9 }, () => rng() * 2 - 1));
    const want = predict(network, rows);
    const q = compileInference(decodePolicy(encodePolicy(policy)).model);
    rows.forEach((row, i) => {
      const got = q(row, 0);
      for (let a = 0; a < 4; a++) expect(got[a]).toBeCloseTo(want[i * 4 + a]!, 4);
    });
    network.dispose();
  });

  test("trained with the DQN machinery, it learns the bandit, and its export agrees with tfjs on ≥ 99.5% of argmaxes", () => {
    const result = trainDqn(bandit, {
      towers: { visitorHidden: [32], promotionHidden: [16], embedding: 8, promotions },
      gamma: 0,
      epochs: 8,
      batchSize: 64,
      learningRate: 0.01,
      seed: 5,
    });
    const q = predict(
      result.network,
      bandit.states.map((s) => s.features),
    );
    const judged = bandit.states.flatMap((state, i) => {
      const best = bestAction(state.stateKey, 4);
      return state.eligible[best] ? [greedyAction(q.subarray(i * 4, i * 4 + 4), state.eligible) === best] : [];
    });
    expect(judged.filter(Boolean).length / judged.length).toBeGreaterThan(0.95);

    const policy = twoTowerToPolicy(result.network, policyMeta(bandit, { version: "v" }), trainedPromotions);
    for (const precision of ["float32", "int8"] as const) {
      const report = checkParity(encodePolicy(policy, precision), tfjsReference(result.network), bandit.states, {
        required: 0.995,
      });
      expect(report.agreement).toBeGreaterThanOrEqual(0.995);
    }
    result.network.dispose();
  });

  test("refuses towers for another number of promotions, and a table out of the actions' order", () => {
    expect(() =>
      trainDqn(bandit, {
        towers: { visitorHidden: [4], promotionHidden: [4], embedding: 2, promotions: promotions.slice(1) },
      }),
    ).toThrow(/3 promotions for the towers, the dataset has 4 actions/);
    const network = buildTwoTowerNetwork(
      9,
      { visitorHidden: [4], promotionHidden: [], embedding: 2, promotions },
      createRng(1),
    );
    const meta = policyMeta({ actions: bandit.actions, featureSpecHash: "h" }, { version: "v" });
    expect(() => twoTowerToPolicy(network, meta, [...trainedPromotions].reverse())).toThrow(/in order/);
    network.dispose();
  });
});
