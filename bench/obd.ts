/**
 * Real logged data: the Open Bandit Dataset sample beside the checkout (../shared/data/obd). Train
 * on the first 70% of random/men by time, estimate on the last 30% the click rate of the learned
 * policies, uniform and the best single item, and set them next to the click rate that the
 * Thompson-sampling policy actually achieved on the same site in the same week (bts/men).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { selectBackend } from "../trainer/backend.ts";
import { buildDataset } from "../trainer/build-dataset.ts";
import { readCsv } from "../trainer/csv.ts";
import { importObd } from "../trainer/import-obd.ts";
import { setupFromMeta } from "../trainer/log-meta.ts";
import type { PolicyComparison } from "../trainer/ope/index.ts";
import { DEFAULT_EXPLORATION } from "../trainer/policy-meta.ts";
import { fileSource } from "../trainer/sources/file.ts";
import { readAllLogs } from "../trainer/sources/read-all.ts";
import { splitByTime } from "../trainer/split.ts";
import { trainPolicy, type Algorithm } from "../trainer/train-policy.ts";
import type { Measurement, Metric } from "./types.ts";

const OBD = fileURLToPath(new URL("../../shared/data/obd/", import.meta.url));
const Z95 = 1.959964;

/** Wilson score interval of a binomial rate: sound at rates near 0, where the normal one is not. */
function wilson(successes: number, n: number): { lower: number; upper: number } {
  const p = successes / n;
  const centre = (p + (Z95 * Z95) / (2 * n)) / (1 + (Z95 * Z95) / n);
  const half = (Z95 / (1 + (Z95 * Z95) / n)) * Math.sqrt((p * (1 - p)) / n + (Z95 * Z95) / (4 * n * n));
  return { lower: centre - half, upper: centre + half };
}

async function observedClicks(campaignDir: string): Promise<{ clicks: number; impressions: number }> {
  let clicks = 0;
  let impressions = 0;
  for await (const { values } of readCsv(path.join(campaignDir, "men.csv"))) {
    impressions++;
    if (values.click === "1") clicks++;
  }
  return { clicks, impressions };
}

function estimateMetrics(comparison: PolicyComparison, label: string, role: string): Metric[] {
  const policy = comparison.policies.find((p) => p.role === role);
  if (!policy) return [];
  return policy.estimates
    .filter((e) => e.estimator === "snips" || e.estimator === "dr")
    .map((e) => ({
      metric: `obd_${label}_${e.estimator}_ctr`,
      value: e.value,
      unit: "clicks/impression",
      lower: e.lower,
      upper: e.upper,
      ess: Math.round(e.ess),
      policy: policy.name,
      note: `${policy.name}, ${e.estimator.toUpperCase()}: 95% interval [${e.lower.toFixed(4)}, ${e.upper.toFixed(4)}], effective sample size ${Math.round(e.ess)}`,
    }));
}

type Bounds = { lower: number; upper: number };

function compare(a: Bounds, b: Bounds): "below" | "above" | "indistinguishable from" {
  if (a.upper < b.lower) return "below";
  if (a.lower > b.upper) return "above";
  return "indistinguishable from";
}

/** Reads the intervals: is each learned policy separable from uniform and from the live policy? */
function verdicts(metrics: readonly Metric[], live: Bounds): string[] {
  const estimate = (label: string, estimator: string) => metrics.find((m) => m.metric === `obd_${label}_${estimator}_ctr`) as (Metric & Bounds) | undefined;
  return (["qtable", "dqn"] as const).flatMap((label) =>
    (["snips", "dr"] as const).flatMap((estimator) => {
      const learned = estimate(label, estimator);
      const uniform = estimate("uniform", estimator);
      if (!learned || !uniform) return [];
      return [`${label} by ${estimator.toUpperCase()} is ${compare(learned, uniform)} uniform and ${compare(learned, live)} the live Thompson sampler`];
    }),
  );
}

export const obdBenchmark: Measurement = {
  name: "obd",
  description: "Open Bandit Dataset: learned vs uniform vs best item on a 30% time holdout, next to the live Thompson-sampling CTR",
  async run({ quick, log }) {
    const random = path.join(OBD, "random", "men");
    const bts = path.join(OBD, "bts", "men");
    if (!existsSync(path.join(random, "men.csv")) || !existsSync(path.join(bts, "men.csv"))) {
      log(`obd: no data at ${OBD}; skipped`);
      return [];
    }
    const dir = await mkdtemp(path.join(tmpdir(), "edge-promo-obd-"));
    try {
      const file = path.join(dir, "random-men.jsonl");
      await importObd(random, file, { quiet: true });
      const source = fileSource(file);
      const logs = await readAllLogs(source, { quiet: true });
      await source.close();
      const last = logs.decisions.reduce((t, d) => Math.max(t, d.ts), 0);
      const dataset = buildDataset(logs.decisions, logs.outcomes, { ...setupFromMeta(logs.meta), now: last + 1, attributionWindowMs: 1 });
      const { train, holdout } = splitByTime(dataset, 0.3);
      const backend = await selectBackend({ warn: log });

      const metrics: Metric[] = [];
      let baselines: PolicyComparison | null = null;
      for (const algorithm of ["qtable", "dqn"] as const satisfies readonly Algorithm[]) {
        log(`obd: ${algorithm} on ${train.steps.length} impressions, evaluated on the latest ${holdout.steps.length}`);
        const trained = trainPolicy(
          { train, evaluation: holdout },
          {
            algorithm,
            gamma: 0,
            seed: 1,
            version: `obd-${algorithm}`,
            now: new Date(dataset.window.to),
            exploration: DEFAULT_EXPLORATION,
            precision: "float32",
            level: 0.95,
            interval: { method: "bootstrap", replicates: quick ? 200 : 1000 },
            current: null,
            backend: backend.label,
            qtable: {},
            dqn: { epochs: quick ? 3 : 10, hidden: [32] },
            log: () => {},
          },
        );
        metrics.push(...estimateMetrics(trained.comparison, algorithm, "candidate"));
        baselines = trained.comparison;
      }
      if (baselines) {
        metrics.push(...estimateMetrics(baselines, "uniform", "uniform"), ...estimateMetrics(baselines, "best_item", "best-fixed"));
      }

      const observed = await observedClicks(bts);
      const rate = observed.clicks / observed.impressions;
      const live = wilson(observed.clicks, observed.impressions);
      metrics.push({
        metric: "obd_bts_observed_ctr",
        value: rate,
        unit: "clicks/impression",
        ...live,
        note:
          `Open Bandit Dataset (Saito et al., arXiv:2008.07146), men campaign: ${train.steps.length} random-policy impressions ` +
          `to train, the latest ${holdout.steps.length} to estimate. The Thompson-sampling policy (bts/men) got ` +
          `${observed.clicks} clicks in ${observed.impressions} impressions, 95% Wilson interval [${live.lower.toFixed(4)}, ` +
          `${live.upper.toFixed(4)}]. What the 95% intervals allow: ${verdicts(metrics, live).join("; ")}. ` +
          "Where SNIPS and DR disagree, trust neither: a near-greedy policy's own choices met only a handful of the " +
          "holdout's clicks (see the effective sample sizes), and a percentile bootstrap is too narrow with so few events. " +
          "The best single item is picked on the holdout itself, so its estimate is optimistic.",
      });
      return metrics;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
