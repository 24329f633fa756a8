import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const run = promisify(execFile);

interface DemoSummary {
  rounds: { round: number; policy: string; published: boolean; worker_value: number; ground_truth_ratio: number }[];
  fallback_ratio: number;
  final_ratio: number;
  forced: boolean;
  experiment: {
    id: string;
    candidate: string;
    arms: Record<string, { visitors: number; decisions: number }>;
    verdict: { action: string; reason: string };
    monitor: { experimentId: string; action: string; reason: string } | null;
  };
}

// The demo at a small scale: the same Worker, simulated history, rounds of traffic, training, gate and scoring.
test("npm run demo runs its rounds through the Worker and ends with a JSON summary, never forcing", async () => {
  const outDir = await mkdtemp(path.join(tmpdir(), "edge-promo-demo-out-"));
  const { stdout } = await run(
    process.execPath,
    [
      "scripts/demo.ts",
      ...["--history", "3000", "--rounds", "2", "--visitors", "40", "--score-visitors", "200", "--json"],
      ...["--out-dir", outDir],
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  ).finally(() => rm(outDir, { recursive: true, force: true }));
  expect(stdout).toMatch(/SIMULATED HISTORY/);
  expect(stdout).toMatch(/round\s+served\s+through the Worker\s+ground truth/);
  expect(stdout).toMatch(/demo finished in \d+ s/);
  const last = stdout.trim().split("\n").at(-1)!;
  const { summary } = JSON.parse(last) as { summary: DemoSummary };
  expect(summary.forced).toBe(false);
  expect(summary.rounds.map((r) => r.round)).toEqual([1, 2]);
  for (const r of summary.rounds) {
    expect(r.policy).toMatch(/^\d{8}T\d{6}Z-safe$/);
    expect(typeof r.published).toBe("boolean");
    expect(Number.isFinite(r.worker_value)).toBe(true);
    expect(r.ground_truth_ratio).toBeGreaterThan(0);
  }
  // The last candidate ran as a canary against the control, and the Worker's monitor looked at it.
  const { experiment } = summary;
  expect(experiment.candidate).toBe(summary.rounds.at(-1)!.policy);
  expect(Object.keys(experiment.arms)).toEqual(["control", "candidate"]);
  expect(Object.values(experiment.arms).reduce((n, a) => n + a.visitors, 0)).toBe(40);
  expect(experiment.monitor).toMatchObject({ experimentId: experiment.id, action: experiment.verdict.action });
  expect(stdout).toMatch(/the monitor: \w+: /);
  // Nothing was published without the gate: with no publication, what is served at the end is the fallback.
  if (summary.rounds.every((r) => !r.published)) expect(summary.final_ratio).toBe(summary.fallback_ratio);
}, 240_000);
