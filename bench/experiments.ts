/**
 * experiment_interval_coverage, experiment_aa_false_positive_rate: the experiment statistics of
 * shared/experiment-stats.ts checked against the simulator's truth.
 *
 * - Coverage: 100 simulated A/B experiments of the control (never promote, 5% explored) against
 *   "always pct10", each on its own fresh visitors per arm. The true difference in reward per
 *   visitor is measured on 100,000 other visitors per arm (its standard error is printed: far below
 *   the experiments' own). Counted: how many visitor-level 95% intervals cover it, fixed-horizon
 *   (read once at the end) and always-valid (the monitor's).
 * - A/A: 100 experiments of the control against itself, read every simulated hour for 48 hours,
 *   visitors arriving evenly. Counted: how many the mSPRT ever rejects at α = 0.05 (the monitor's
 *   rule), and, for contrast, how many a fixed-horizon test read at every look would.
 *
 * A visitor's totals are its whole simulated life, known at its arrival: a simplification (in a live
 * experiment late outcomes still arrive) that leaves the statistics' own behaviour to be measured.
 */
import { DEFAULT_CATALOGUE } from "../shared/catalogue.ts";
import {
  alwaysValidInterval,
  armFigures,
  differenceOf,
  fixedInterval,
  mixtureLikelihoodRatio,
  type VisitorTotals,
} from "../shared/experiment-stats.ts";
import { DEFAULT_MONITOR_RULE } from "../shared/experiment-verdict.ts";
import { DEFAULT_COMPILED_SPEC } from "../shared/features.ts";
import { controlChooser, fixedChooser, type Chooser } from "../trainer/sim/chooser.ts";
import { simulateTraffic, type VisitorOutcome } from "../trainer/sim/simulate.ts";
import { round } from "./stats.ts";
import { withTarget, type Measurement } from "./types.ts";

function totalsOf(v: VisitorOutcome): VisitorTotals {
  return {
    decisions: v.pageViews,
    clicks: v.clicks,
    conversions: v.conversions,
    revenue: v.revenue,
    promotionCost: v.promotionCost,
    margin: v.margin + v.promotionCost,
    value: v.reward,
  };
}

function visitors(policy: Chooser, seed: number, count: number): VisitorTotals[] {
  return simulateTraffic({ seed, visitors: count, policy, record: false }).visitors.map(totalsOf);
}

/** The mSPRT's τ as the monitor sets it: tauInSds per-visitor standard deviations. */
function tauFor(d: { se: number }, a: number, b: number): number {
  return (d.se * DEFAULT_MONITOR_RULE.tauInSds) / Math.sqrt(1 / a + 1 / b);
}

export const experiments: Measurement = {
  name: "experiments",
  description:
    "experiment statistics on the simulator: interval coverage in A/B tests, A/A false positives with hourly looks",
  async run({ quick, log }) {
    const control = controlChooser(DEFAULT_CATALOGUE, DEFAULT_COMPILED_SPEC);
    const candidate = fixedChooser("pct10", DEFAULT_CATALOGUE);
    const runs = quick ? 20 : 100;
    const perArm = quick ? 500 : 2_000;
    const truthVisitors = quick ? 5_000 : 100_000;
    const alpha = DEFAULT_MONITOR_RULE.alpha;

    log(`experiments: the true difference on ${truthVisitors} visitors per arm`);
    const truthDiff = differenceOf(
      armFigures(visitors(candidate, 900_001, truthVisitors)).valuePerVisitor,
      armFigures(visitors(control, 900_002, truthVisitors)).valuePerVisitor,
    );
    const truth = truthDiff.mean;

    log(`experiments: ${runs} A/B experiments × ${perArm} visitors per arm`);
    let fixedCovers = 0;
    let alwaysValidCovers = 0;
    let seSum = 0;
    for (let r = 0; r < runs; r++) {
      const d = differenceOf(
        armFigures(visitors(candidate, 10_000 + 2 * r, perArm)).valuePerVisitor,
        armFigures(visitors(control, 10_001 + 2 * r, perArm)).valuePerVisitor,
      );
      seSum += d.se;
      const fixed = fixedInterval(d);
      if (fixed.lo <= truth && truth <= fixed.hi) fixedCovers++;
      const valid = alwaysValidInterval(d, tauFor(d, perArm, perArm), alpha);
      if (valid.lo <= truth && truth <= valid.hi) alwaysValidCovers++;
    }

    const hours = 48;
    log(`experiments: ${runs} A/A experiments × ${perArm} visitors per arm, looked at every hour for ${hours} hours`);
    let sequentialRejects = 0;
    let peekingRejects = 0;
    for (let r = 0; r < runs; r++) {
      const a = visitors(control, 50_000 + 2 * r, perArm);
      const b = visitors(control, 50_001 + 2 * r, perArm);
      let sequential = false;
      let peeking = false;
      for (let hour = 1; hour <= hours; hour++) {
        const n = Math.floor((perArm * hour) / hours);
        if (n < 20) continue;
        const d = differenceOf(armFigures(a.slice(0, n)).valuePerVisitor, armFigures(b.slice(0, n)).valuePerVisitor);
        if (mixtureLikelihoodRatio(d, tauFor(d, n, n)) >= 1 / alpha) sequential = true;
        const fixed = fixedInterval(d);
        if (fixed.lo > 0 || fixed.hi < 0) peeking = true;
      }
      if (sequential) sequentialRejects++;
      if (peeking) peekingRejects++;
    }

    const common = { experiments: runs, visitors_per_arm: perArm };
    return [
      withTarget(
        {
          metric: "experiment_interval_coverage",
          value: fixedCovers,
          unit: `of ${runs}`,
          ...common,
          always_valid_covers: alwaysValidCovers,
          true_difference: round(truth),
          true_difference_se: round(truthDiff.se),
          mean_experiment_se: round(seSum / runs),
          note: `control vs always pct10, reward per visitor: the true difference ${round(truth)} (se ${round(truthDiff.se)} on ${truthVisitors} visitors per arm); the visitor-level 95% interval covered it in ${fixedCovers} of ${runs} experiments (always-valid: ${alwaysValidCovers}); mean se per experiment ${round(seSum / runs)}`,
        },
        ">=",
        Math.ceil(0.9 * runs),
      ),
      withTarget(
        {
          metric: "experiment_aa_false_positive_rate",
          value: round(sequentialRejects / runs),
          unit: "share",
          ...common,
          looks: hours,
          naive_peeking_rate: round(peekingRejects / runs),
          note: `control vs control, ${hours} hourly looks: the mSPRT (α ${alpha}) rejected ${sequentialRejects} of ${runs}; a fixed-horizon 95% test read at every look would have rejected ${peekingRejects}`,
        },
        "<=",
        0.05,
      ),
    ];
  },
};
