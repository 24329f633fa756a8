import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const run = promisify(execFile);

// The demo at a tenth of its size: the same Worker, traffic, training, publish and scoring steps.
test("npm run demo completes the loop on a small scale", async () => {
  const outDir = await mkdtemp(path.join(tmpdir(), "edge-promo-demo-out-"));
  const { stdout } = await run(
    process.execPath,
    ["scripts/demo.ts", "--visitors", "60", "--score-visitors", "200", "--epochs", "2", "--out-dir", outDir],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  ).finally(() => rm(outDir, { recursive: true, force: true }));
  expect(stdout).toMatch(/the Worker now serves \d{8}T\d{6}Z-dqn \(kv\)/);
  for (const policy of [
    "control-explore (fallback)",
    "uniform",
    "best fixed",
    "myopic bandit",
    "DQN",
    "Q-table",
    "oracle",
  ]) {
    expect(stdout).toContain(policy);
  }
  expect(stdout).toMatch(/demo finished in \d+ s/);
}, 240_000);
