import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const run = promisify(execFile);

// The demo at a tenth of its size: the same Worker, traffic, training, publish and scoring steps.
test("npm run demo completes the loop on a small scale", async () => {
  const { stdout } = await run(
    process.execPath,
    ["scripts/demo.ts", "--visitors", "60", "--score-visitors", "200", "--epochs", "2"],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  expect(stdout).toMatch(/the Worker now serves \d{8}T\d{6}Z-dqn \(kv\)/);
  for (const policy of ["uniform (fallback)", "best fixed", "myopic bandit", "DQN", "Q-table", "oracle"]) {
    expect(stdout).toContain(policy);
  }
  expect(stdout).toMatch(/demo finished in \d+ s/);
}, 240_000);
