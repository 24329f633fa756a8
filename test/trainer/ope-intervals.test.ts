import { describe, expect, test } from "vitest";
import { empiricalBernsteinInterval } from "../../trainer/ope/bernstein.ts";
import { bootstrapInterval, bootstrapIntervals, quantile } from "../../trainer/ope/bootstrap.ts";
import { ips, onPolicyValue, snips } from "../../trainer/ope/one-step.ts";
import { onPolicyReturn } from "../../trainer/ope/pdwis.ts";
import { decisionSample } from "../../trainer/ope/ratio-terms.ts";
import { createRng } from "../../shared/rng.ts";
import { BANDIT, banditLog, banditValue, MDP, mdpLog, tablePolicy } from "./ope-fixtures.ts";

describe("percentile bootstrap", () => {
  const sample = decisionSample({
    numerator: Float64Array.from({ length: 200 }, (_, i) => (i % 7) / 7),
    denominator: null,
  });

  test("is repeatable from its seed and changes with it", () => {
    const options = { level: 0.9, replicates: 300 };
    expect(bootstrapInterval(sample, { ...options, seed: 4 })).toEqual(
      bootstrapInterval(sample, { ...options, seed: 4 }),
    );
    expect(bootstrapInterval(sample, { ...options, seed: 4 })).not.toEqual(
      bootstrapInterval(sample, { ...options, seed: 5 }),
    );
  });

  test("matches the normal-theory interval of a mean on well-behaved data", () => {
    const values = sample.statistic(new Uint32Array(200).fill(1));
    const terms = Array.from({ length: 200 }, (_, i) => (i % 7) / 7);
    const sd = Math.sqrt(terms.reduce((sum, t) => sum + (t - values) ** 2, 0) / 199);
    const { lower, upper } = bootstrapInterval(sample, { level: 0.95, replicates: 2000, seed: 1 });
    expect(lower).toBeLessThan(values);
    expect(upper).toBeGreaterThan(values);
    expect(upper - lower).toBeCloseTo(2 * 1.96 * (sd / Math.sqrt(200)), 2);
  });

  test("leaves out resamples where the estimate is undefined, and gives NaN when all are", () => {
    const empty = decisionSample({ numerator: new Float64Array(5), denominator: new Float64Array(5) });
    const interval = bootstrapInterval(empty, { level: 0.95, replicates: 50, seed: 1 });
    expect(interval.lower).toBeNaN();
    expect(interval.upper).toBeNaN();
  });

  test("several estimates over the same units get the same intervals together as apart", () => {
    const log = banditLog(BANDIT, 300, 5);
    const target = tablePolicy("uniform-ish", [
      [0.4, 0.3, 0.3],
      [0.3, 0.3, 0.4],
      [0.5, 0.5, 0],
    ]);
    const samples = [ips(log, target).sample, snips(log, target).sample, onPolicyValue(log).sample];
    const options = { level: 0.9, replicates: 150, seed: 12 };
    expect(bootstrapIntervals(samples, options)).toEqual(samples.map((s) => bootstrapInterval(s, options)));
  });

  test("refuses to resample decisions and visitors together", () => {
    const decisions = onPolicyValue(mdpLog(MDP, 50, 1)).sample;
    const visitors = onPolicyReturn(mdpLog(MDP, 50, 1), 0.9).sample;
    expect(() => bootstrapIntervals([decisions, visitors], { level: 0.9, replicates: 10, seed: 1 })).toThrow(/units/);
  });

  test("quantile interpolates between order statistics", () => {
    const sorted = Float64Array.of(1, 2, 3, 4, 5);
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile(sorted, 0.5)).toBe(3);
    expect(quantile(sorted, 0.125)).toBeCloseTo(1.5, 12);
    expect(quantile(sorted, 1)).toBe(5);
  });

  test("refuses a level outside (0, 1) and a non-positive replicate count", () => {
    expect(() => bootstrapInterval(sample, { level: 1, replicates: 10, seed: 1 })).toThrow(/level/);
    expect(() => bootstrapInterval(sample, { level: 0.9, replicates: 0, seed: 1 })).toThrow(/replicates/);
  });
});

describe("empirical Bernstein", () => {
  test("covers the on-policy mean reward in at least 95% of replicates (a finite-sample guarantee) and is wider than the bootstrap", () => {
    const truth = banditValue(BANDIT, BANDIT.logging);
    let covered = 0;
    for (let r = 0; r < 40; r++) {
      const estimate = onPolicyValue(banditLog(BANDIT, 1000, 300 + r));
      const bernstein = empiricalBernsteinInterval(estimate.meanTerms!, { min: 0, max: 1 }, 0.95);
      const bootstrap = bootstrapInterval(estimate.sample, { level: 0.95, replicates: 200, seed: r });
      expect(bernstein.upper - bernstein.lower).toBeGreaterThan(bootstrap.upper - bootstrap.lower);
      if (bernstein.lower <= truth && truth <= bernstein.upper) covered++;
    }
    expect(covered).toBeGreaterThanOrEqual(38);
  });

  test("follows Maurer & Pontil's radius and clips to the range", () => {
    const rng = createRng(2);
    const terms = Float64Array.from({ length: 400 }, () => (rng() < 0.3 ? 1 : 0));
    const mean = terms.reduce((a, b) => a + b, 0) / terms.length;
    const variance = terms.reduce((sum, t) => sum + (t - mean) ** 2, 0) / (terms.length - 1);
    const log = Math.log(4 / 0.1);
    const radius = Math.sqrt((2 * variance * log) / 400) + (7 * log) / (3 * 399);
    const { lower, upper } = empiricalBernsteinInterval(terms, { min: 0, max: 1 }, 0.9);
    expect(lower).toBeCloseTo(mean - radius, 12);
    expect(upper).toBeCloseTo(mean + radius, 12);

    const tiny = empiricalBernsteinInterval(Float64Array.of(0, 0, 1), { min: 0, max: 1 }, 0.95);
    expect(tiny).toEqual({ lower: 0, upper: 1 });
  });

  test("refuses terms outside the stated range", () => {
    expect(() => empiricalBernsteinInterval(Float64Array.of(0, 2), { min: 0, max: 1 }, 0.95)).toThrow(/outside/);
  });
});
