import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Exploration, Precision } from "../../../shared/policy/types.ts";
import { parseBackendChoice, selectBackend, type BackendChoice } from "../../runtime/backend.ts";
import { DEFAULT_DQN_OPTIONS, DEFAULT_TWO_TOWER } from "../../learn/dqn/index.ts";
import { DEFAULT_INTERVAL_METHOD, type IntervalMethod } from "../../ope/index.ts";
import { DEFAULT_EXPLORATION } from "../../learn/policy-meta.ts";
import { DEFAULT_QLEARNING_OPTIONS, type StepSize } from "../../learn/qlearning.ts";
import { renderReport } from "../../report/index.ts";
import { splitByTime } from "../../data/split.ts";
import { ALGORITHMS, DEFAULT_ALGORITHM, trainPolicy, usesTfjs, type Algorithm } from "../../learn/train-policy.ts";
import { DEFAULT_SAFE_IMPROVEMENT_OPTIONS, SAFE_EXPLORE_CHOICES } from "../../learn/safe-improvement.ts";
import { gatePublication } from "../../ope/gate.ts";
import { choiceOption, defineCommand, numberOption, stringOption, UsageError, type OptionValues } from "../command.ts";
import { AGAINST_USAGE, checkComparable, loadCurrentPolicy, parseAgainst } from "../current-policy.ts";
import { formatComparison } from "../format-comparison.ts";
import { DATASET_OPTIONS, DATASET_USAGE, loadDataset, parseDatasetOptions } from "../load-dataset.ts";

export const trainCommand = defineCommand({
  name: "train",
  summary: "learn a policy from logged decisions, evaluate it offline, export it and write a report",
  usage: `usage: promo train [--source local|remote|file:<path>] [--algo safe|qtable|dqn|features] [options]

${DATASET_USAGE}
  --algo A        safe (improve on the control only where the logs prove it; TypeScript),
                  qtable (tabular Q-learning, TypeScript), dqn (one Q-value per promotion, TensorFlow.js)
                  or features (a two-tower DQN over visitor and promotion features, TensorFlow.js: it
                  serves a changed catalogue without retraining); default ${DEFAULT_ALGORITHM}
  --gamma G       discount; 0 is the contextual bandit; default 0.95
  --seed N        seeds learning, sampling and bootstrap; default 1
  --epsilon E     exploration the policy ships with; default ${DEFAULT_EXPLORATION.type === "epsilon" ? DEFAULT_EXPLORATION.epsilon : ""}
  --softmax T     softmax exploration at temperature T instead of epsilon-greedy
  --floor P       least probability of any eligible action; default ${DEFAULT_EXPLORATION.floor}
  --quantize Q    float32 or int8; default float32
  --out F         policy file; default policies/<version>.bin
  --report F      HTML report; default reports/<version>.html
${AGAINST_USAGE}
  --holdout F     fraction of the latest decisions kept out of training to evaluate on; 0 evaluates
                  on the training data itself (optimistic); default 0.3
  --level L       confidence level of the offline intervals; default 0.95
  --bootstrap B   bootstrap replicates; default ${DEFAULT_INTERVAL_METHOD.replicates}
 safe:
  --z Z           deviate from the control only where advantage − Z·SE > 0; default ${DEFAULT_SAFE_IMPROVEMENT_OPTIONS.z}
  --min-count N   least logged count of a promotion before it may be chosen; default ${DEFAULT_SAFE_IMPROVEMENT_OPTIONS.minCount}
  --explore E     where the exploration share goes: plausible (every promotion not shown to lose),
                  most-promising (the one with the highest upper bound, in every state) or
                  promising-states (that one, only in states where a switch is still possible, at a
                  higher share there); default ${DEFAULT_SAFE_IMPROVEMENT_OPTIONS.explore}
 qtable:
  --alpha A       learning rate, or sample-average (1/n per pair); default sample-average
  --max-sweeps N  default ${DEFAULT_QLEARNING_OPTIONS.maxSweeps}
  --tolerance T   converged when no Q moves more than T in a sweep; default ${DEFAULT_QLEARNING_OPTIONS.tolerance}
 dqn:
  --backend B     node-gpu | node | wasm | cpu; default: the first that starts, in that order
  --hidden H      hidden layer sizes; default ${DEFAULT_DQN_OPTIONS.hidden.join(",")}
  --epochs N      default ${DEFAULT_DQN_OPTIONS.epochs}
  --batch-size N  default ${DEFAULT_DQN_OPTIONS.batchSize}
  --lr R          Adam learning rate; default ${DEFAULT_DQN_OPTIONS.learningRate}
  --target-sync N updates between target-network syncs; default ${DEFAULT_DQN_OPTIONS.targetSyncEvery}
  --cql W         conservative penalty weight; default ${DEFAULT_DQN_OPTIONS.conservativeWeight}
 features (the dqn options too; --hidden sizes the visitor tower, default ${DEFAULT_TWO_TOWER.visitorHidden.join(",")}):
  --promotion-hidden H  hidden layer sizes of the promotion tower; default ${DEFAULT_TWO_TOWER.promotionHidden.join(",")}
  --embedding N   width of the visitor and promotion embeddings; default ${DEFAULT_TWO_TOWER.embedding}`,
  options: {
    ...DATASET_OPTIONS,
    algo: { type: "string" },
    gamma: { type: "string" },
    explore: { type: "string" },
    "promotion-hidden": { type: "string" },
    embedding: { type: "string" },
    seed: { type: "string" },
    epsilon: { type: "string" },
    softmax: { type: "string" },
    floor: { type: "string" },
    quantize: { type: "string" },
    out: { type: "string" },
    report: { type: "string" },
    against: { type: "string" },
    holdout: { type: "string" },
    level: { type: "string" },
    bootstrap: { type: "string" },
    z: { type: "string" },
    "min-count": { type: "string" },
    alpha: { type: "string" },
    "max-sweeps": { type: "string" },
    tolerance: { type: "string" },
    backend: { type: "string" },
    hidden: { type: "string" },
    epochs: { type: "string" },
    "batch-size": { type: "string" },
    lr: { type: "string" },
    "target-sync": { type: "string" },
    cql: { type: "string" },
  },
  parse({ values }) {
    const algorithm = choiceOption<Algorithm>(values, "algo", ALGORITHMS, DEFAULT_ALGORITHM);
    const data = parseDatasetOptions(values);
    const forcedBackend = stringOption(values, "backend");
    return {
      algorithm,
      data,
      against: parseAgainst(stringOption(values, "against"), data.source.kind, stringOption(values, "persist-to")),
      backend: forcedBackend === undefined ? undefined : parseBackendChoice(forcedBackend),
      holdout: numberOption(values, "holdout", 0.3, (f) => f >= 0 && f < 1),
      out: stringOption(values, "out"),
      report: stringOption(values, "report"),
      learning: {
        algorithm,
        gamma: numberOption(values, "gamma", 0.95, (g) => g >= 0 && g < 1),
        seed: numberOption(values, "seed", 1, Number.isInteger),
        exploration: explorationOf(values),
        precision: choiceOption<Precision>(values, "quantize", ["float32", "int8"], "float32"),
        level: numberOption(values, "level", 0.95, (l) => l > 0 && l < 1),
        interval: intervalOf(values),
        safe: {
          z: numberOption(values, "z", DEFAULT_SAFE_IMPROVEMENT_OPTIONS.z, (z) => z >= 0),
          minCount: numberOption(values, "min-count", DEFAULT_SAFE_IMPROVEMENT_OPTIONS.minCount, (n) => n >= 0),
          explore: choiceOption(values, "explore", SAFE_EXPLORE_CHOICES, DEFAULT_SAFE_IMPROVEMENT_OPTIONS.explore),
        },
        qtable: {
          alpha: stepSizeOf(values),
          maxSweeps: numberOption(values, "max-sweeps", DEFAULT_QLEARNING_OPTIONS.maxSweeps, (n) => n >= 1),
          tolerance: numberOption(values, "tolerance", DEFAULT_QLEARNING_OPTIONS.tolerance, (t) => t > 0),
        },
        towers: {
          visitorHidden: sizesOf(values, "hidden", DEFAULT_TWO_TOWER.visitorHidden),
          promotionHidden: sizesOf(values, "promotion-hidden", DEFAULT_TWO_TOWER.promotionHidden),
          embedding: numberOption(
            values,
            "embedding",
            DEFAULT_TWO_TOWER.embedding,
            (n) => Number.isInteger(n) && n >= 1,
          ),
        },
        dqn: {
          hidden: sizesOf(values, "hidden", DEFAULT_DQN_OPTIONS.hidden),
          epochs: numberOption(values, "epochs", DEFAULT_DQN_OPTIONS.epochs, (n) => Number.isInteger(n) && n >= 1),
          batchSize: numberOption(
            values,
            "batch-size",
            DEFAULT_DQN_OPTIONS.batchSize,
            (n) => Number.isInteger(n) && n >= 1,
          ),
          learningRate: numberOption(values, "lr", DEFAULT_DQN_OPTIONS.learningRate, (r) => r > 0),
          targetSyncEvery: numberOption(
            values,
            "target-sync",
            DEFAULT_DQN_OPTIONS.targetSyncEvery,
            (n) => Number.isInteger(n) && n >= 1,
          ),
          conservativeWeight: numberOption(values, "cql", DEFAULT_DQN_OPTIONS.conservativeWeight, (w) => w >= 0),
        },
      },
    };
  },
  async run(o, { log, quiet }) {
    const { algorithm, learning } = o;
    const { gamma } = learning;
    const now = new Date();
    const version = `${now
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d+Z$/, "Z")}-${algorithm}`;

    const backend = usesTfjs(algorithm) ? await startBackend(o.backend, log) : "typescript";
    const { dataset, catalogue, control, description, unused } = await loadDataset(o.data, { log, quiet });
    const current = await loadCurrentPolicy(o.against);
    checkComparable(current, dataset.featureSpecHash, dataset.actions);

    const holdout = o.holdout;
    const data = holdout > 0 ? splitByTime(dataset, holdout) : { train: dataset, holdout: dataset };
    if (holdout > 0)
      log(`training on ${data.train.steps.length} decisions, evaluating on the latest ${data.holdout.steps.length}`);
    const trained = trainPolicy(
      { train: data.train, evaluation: data.holdout },
      { ...learning, catalogue, control, version, now, current, backend, log },
    );

    const out = o.out ?? `policies/${version}.bin`;
    const reportPath = o.report ?? `reports/${version}.html`;
    const gate = gatePublication(trained.policy, current?.meta.version ?? null, false);
    const training = trained.policy.meta.training!;
    await writeFileMaking(out, trained.bytes);
    await writeFileMaking(
      reportPath,
      renderReport({
        title: `edge-promo policy ${version}`,
        generatedAt: now.toISOString(),
        facts: [
          { label: "algorithm", value: algorithm },
          { label: "backend", value: training.backend },
          { label: "data", value: `${description}: ${training.dataFrom} → ${training.dataTo}` },
          { label: "decisions", value: training.decisions },
          { label: "non-terminal transitions", value: training.transitions },
          { label: "γ", value: gamma },
          { label: "learning throughput", value: `${Math.round(trained.transitionsPerSecond)} transitions/s` },
          {
            label: "export",
            value: `${learning.precision}, ${trained.bytes.length} bytes, parity ${(100 * trained.parity.agreement).toFixed(2)}% argmax agreement, max |ΔQ| ${trained.parity.maxAbsDiff.toExponential(2)}`,
          },
          ...Object.entries(unused).map(([reason, count]) => ({ label: `unused rows: ${reason}`, value: count })),
        ],
        learningCurve: trained.curve,
        comparison: trained.comparison,
        gate,
        featureImportance: usesTfjs(algorithm) ? trained.importance : null,
      }),
    );
    if (!quiet) process.stderr.write(`${formatComparison(trained.comparison)}\n`);
    const estimate = training.estimate!;
    return {
      summary:
        `trained ${version} (${algorithm} on ${training.backend}, γ = ${gamma}) on ${training.decisions} decisions: ` +
        `${estimate.estimator} ${estimate.value.toFixed(4)} [${estimate.lower.toFixed(4)}, ${estimate.upper.toFixed(4)}]; ` +
        `${gate.allowed ? "would publish" : "would not publish"} (${gate.reason}); wrote ${out} and ${reportPath}`,
      json: {
        version,
        algorithm,
        backend: training.backend,
        out,
        report: reportPath,
        bytes: trained.bytes.length,
        parity: trained.parity,
        training,
        gate,
        unused,
        heldBack: dataset.heldBack,
        holdout,
        transitionsPerSecond: trained.transitionsPerSecond,
        comparison: trained.comparison,
      },
    };
  },
});

async function startBackend(force: BackendChoice | undefined, log: (line: string) => void): Promise<string> {
  const selected = await selectBackend({ ...(force ? { force } : {}), warn: log });
  log(`tfjs backend: ${selected.label}`);
  return selected.label;
}

function explorationOf(values: OptionValues): Exploration {
  const floor = numberOption(values, "floor", DEFAULT_EXPLORATION.floor, (p) => p >= 0 && p <= 1);
  const temperature = stringOption(values, "softmax");
  if (temperature !== undefined) {
    return { type: "softmax", temperature: numberOption(values, "softmax", 1, (t) => t > 0), floor };
  }
  const fallback = DEFAULT_EXPLORATION.type === "epsilon" ? DEFAULT_EXPLORATION.epsilon : 0.05;
  return { type: "epsilon", epsilon: numberOption(values, "epsilon", fallback, (e) => e >= 0 && e <= 1), floor };
}

function intervalOf(values: OptionValues): IntervalMethod {
  return {
    method: "bootstrap",
    replicates: numberOption(
      values,
      "bootstrap",
      DEFAULT_INTERVAL_METHOD.replicates,
      (b) => Number.isInteger(b) && b >= 100,
    ),
  };
}

function stepSizeOf(values: OptionValues): StepSize {
  const raw = stringOption(values, "alpha");
  if (raw === undefined || raw === "sample-average") return "sample-average";
  return numberOption(values, "alpha", 0.1, (a) => a > 0 && a <= 1);
}

function sizesOf(values: OptionValues, name: string, fallback: readonly number[]): number[] {
  const raw = stringOption(values, name);
  if (raw === undefined) return [...fallback];
  const sizes = raw.split(",").map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new UsageError(`--${name} takes sizes like 64,64; got "${raw}"`);
  return sizes;
}

async function writeFileMaking(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}
