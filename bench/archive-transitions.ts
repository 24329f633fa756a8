/**
 * A child process of the archive-scale measurement: builds the transitions of the archive directory
 * given as its argument, as `promo train --source archive` does (DuckDB groups the decisions into
 * trajectories with their outcomes, the dataset builder checks, encodes, credits and links them), and
 * keeps only running totals, so that what grows, if anything, is the building itself. Prints one JSON
 * line with the counts, the seconds it took and this process's peak resident memory.
 */
import { DEFAULT_CATALOGUE } from "../shared/catalogue.ts";
import { DEFAULT_REWARD_SPEC } from "../shared/reward.ts";
import { buildTransitions } from "../trainer/data/build-dataset.ts";
import { archiveDirectorySource } from "../trainer/sources/archive.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node bench/archive-transitions.ts <archive directory>");
const source = await archiveDirectorySource(dir, { memoryLimit: "512MB" });
const start = performance.now();
const totals = { states: 0, steps: 0, linked: 0, rewardSum: 0 };
try {
  const { skipped, heldBack } = await buildTransitions(
    source.trajectories!(),
    { catalogue: DEFAULT_CATALOGUE, reward: DEFAULT_REWARD_SPEC, now: Date.now() },
    {
      state: () => totals.states++,
      step: (step) => {
        totals.steps++;
        if (step.next >= 0) totals.linked++;
        totals.rewardSum += step.reward;
      },
    },
  );
  const seconds = (performance.now() - start) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ...totals, heldBack, skipped, seconds, peakRssMb })}\n`);
} finally {
  await source.close();
}
