import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { encodePolicy } from "../../shared/policy/format.ts";
import type { IntervalEstimate } from "../../shared/policy/types.ts";
import { main } from "../../trainer/cli/main.ts";
import { favouringPolicy } from "../trainer/support/policies.ts";
import { driveWorker } from "../../trainer/sim/drive.ts";
import { startLocalWorker, type LocalWorker } from "../../scripts/local-worker.ts";

/** A Q-table that always shows `favourite`, with the paired improvement a training run would record against `against`. */
function policyFile(dir: string, version: string, favourite: string, improvement: { against: string; value: number }) {
  const estimate = (v: number): IntervalEstimate => ({
    estimator: "pdwis",
    value: v,
    lower: v - 0.1,
    upper: v + 0.1,
    level: 0.95,
  });
  const training = {
    dataFrom: "2026-11-01T00:00:00.000Z",
    dataTo: "2026-11-08T00:00:00.000Z",
    decisions: 1000,
    transitions: 500,
    gamma: 0.9,
    backend: "typescript",
    estimate: estimate(1),
    improvement: { against: improvement.against, estimate: estimate(improvement.value), ess: 5000 },
  };
  const path = join(dir, `${version}.bin`);
  return writeFile(path, encodePolicy(favouringPolicy(version, favourite, { training }))).then(() => path);
}

async function servedVersion(worker: LocalWorker): Promise<string> {
  const response = await fetch(`${worker.url}/v1/policy`);
  return ((await response.json()) as { version: string }).version;
}

async function decidedPromotion(worker: LocalWorker): Promise<string> {
  const response = await fetch(`${worker.url}/v1/decide`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ context: { page: "home", cartValue: 20 } }),
  });
  return ((await response.json()) as { promotion: { id: string } }).promotion.id;
}

describe("publish and rollback against a running Worker", () => {
  let dir: string;
  let worker: LocalWorker;
  const promo = (...args: string[]) =>
    main([...args, "--target", "local", "--persist-to", join(dir, "state"), "--quiet"]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "edge-promo-e2e-"));
    worker = await startLocalWorker({ persistTo: join(dir, "state"), vars: { POLICY_REFRESH_SECONDS: "0" } });
  });
  afterAll(async () => {
    await worker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("the Worker serves what was published, refuses nothing silently, and follows a rollback", async () => {
    expect(await servedVersion(worker)).toBe("fallback");

    const first = await policyFile(dir, "e2e-first", "pct10", { against: "fallback", value: 0.5 });
    expect(await promo("publish", first)).toBe(0);
    expect(await servedVersion(worker)).toBe("e2e-first");
    expect(await decidedPromotion(worker)).toBe("pct10");

    // Its paired difference over the current policy is 0.5 [0.4, 0.6]: published.
    const second = await policyFile(dir, "e2e-second", "none", { against: "e2e-first", value: 0.5 });
    expect(await promo("publish", second)).toBe(0);
    expect(await servedVersion(worker)).toBe("e2e-second");
    expect(await decidedPromotion(worker)).toBe("none");

    // Compared with a policy that is no longer current: refused (exit 3), and the Worker is untouched.
    const stale = await policyFile(dir, "e2e-stale", "pct20", { against: "e2e-first", value: 9.0 });
    expect(await promo("publish", stale)).toBe(3);
    expect(await servedVersion(worker)).toBe("e2e-second");

    // Against the current policy, but not shown to be better (the interval reaches 0): refused.
    const unproven = await policyFile(dir, "e2e-unproven", "pct20", { against: "e2e-second", value: 0.05 });
    expect(await promo("publish", unproven)).toBe(3);
    expect(await servedVersion(worker)).toBe("e2e-second");

    expect(await promo("rollback")).toBe(0);
    expect(await servedVersion(worker)).toBe("e2e-first");
    expect(await decidedPromotion(worker)).toBe("pct10");

    expect(await promo("rollback", "--to", "e2e-second")).toBe(0);
    expect(await servedVersion(worker)).toBe("e2e-second");
  });

  test("publish --canary starts an experiment the Worker serves by arm; the report reads it; stop ends it", async () => {
    const canary = await policyFile(dir, "e2e-canary", "pct10", { against: "e2e-second", value: 0.5 });
    expect(await promo("publish", canary, "--canary", "50%")).toBe(0);
    // The pointer has not moved: the candidate serves only its arm.
    expect(await servedVersion(worker)).toBe("e2e-second");

    const shown = new Set<string>();
    for (let i = 0; i < 80; i++) shown.add(await decidedPromotion(worker));
    expect(shown).toEqual(new Set(["none", "pct10"]));

    const html = join(dir, "report.html");
    const printed = vi.spyOn(console, "log").mockImplementation(() => {});
    let report: { report: { arms: Record<string, { visitors: number; decisions: number }> } } | null = null;
    await vi.waitFor(
      async () => {
        printed.mockClear();
        expect(await promo("report", "experiment", "--source", "local", "--html", html, "--json")).toBe(0);
        report = JSON.parse(String(printed.mock.calls.at(-1)![0]));
        const arms = Object.values(report!.report.arms);
        expect(arms.reduce((n, a) => n + a.decisions, 0)).toBe(80);
      },
      { timeout: 30_000, interval: 1_000 },
    );
    printed.mockRestore();
    expect(Object.keys(report!.report.arms)).toEqual(["current", "candidate"]);
    expect(await readFile(html, "utf8")).toContain("Experiment canary-e2e-canary");

    expect(await promo("experiment", "stop", "--reason", "the e2e test is done")).toBe(0);
    await vi.waitFor(async () => expect(await decidedPromotion(worker)).toBe("none"), { timeout: 10_000 });

    // The same version in shadow: never served, asked at every decision, estimated off-policy.
    expect(await promo("experiment", "start", "--shadow", "e2e-canary")).toBe(0);
    for (let i = 0; i < 30; i++) expect(await decidedPromotion(worker)).toBe("none");
    const shadowOut = vi.spyOn(console, "log").mockImplementation(() => {});
    await vi.waitFor(
      async () => {
        shadowOut.mockClear();
        expect(await promo("report", "experiment", "--source", "local", "--json")).toBe(0);
        const { shadow } = JSON.parse(String(shadowOut.mock.calls.at(-1)![0])) as {
          shadow: { version: string; decisions: number; agreement: { top: number } } | null;
        };
        expect(shadow).toMatchObject({ version: "e2e-canary", decisions: 30 });
        // It would have shown pct10 where none was served: it never ranks the served promotion first.
        expect(shadow!.agreement.top).toBe(0);
      },
      { timeout: 30_000, interval: 1_000 },
    );
    shadowOut.mockRestore();
    expect(await promo("experiment", "stop")).toBe(0);
  }, 120_000);

  test("a canary the simulator makes worse is rolled back by the Worker's scheduled monitor, with no human step", async () => {
    // Always 20% off, for simulated shoppers: it buys few extra orders and gives a fifth of each away.
    const worse = await policyFile(dir, "e2e-pct20", "pct20", { against: "e2e-second", value: 0 });
    expect(await promo("publish", worse, "--canary", "50%", "--force")).toBe(0);
    const drive = await driveWorker({ target: worker.url, seed: 31, visitors: 800, concurrency: 8 });
    expect(drive.failures.decide + drive.failures.outcome).toBe(0);
    expect(Object.keys(drive.policyVersions).sort()).toEqual(["e2e-pct20", "e2e-second"]);

    const printed = vi.spyOn(console, "log").mockImplementation(() => {});
    const status = async () => {
      printed.mockClear();
      expect(await promo("experiment", "status", "--json")).toBe(0);
      return JSON.parse(String(printed.mock.calls.at(-1)![0])) as {
        running: { id: string } | null;
        lastEnded: { outcome: string; by: string; reason: string } | null;
      };
    };
    // The queue writes the rows a moment later; the monitor looks (cron, as wrangler dev exposes it) until it acts.
    await vi.waitFor(
      async () => {
        const scheduled = await fetch(`${worker.url}/cdn-cgi/handler/scheduled`);
        expect(scheduled.status).toBe(200);
        expect((await status()).running).toBeNull();
      },
      { timeout: 60_000, interval: 2_000 },
    );
    const { lastEnded } = await status();
    printed.mockRestore();
    expect(lastEnded).toMatchObject({ outcome: "rolled_back", by: "monitor" });
    expect(lastEnded!.reason).toMatch(/candidate (breaks the promotion-cost guardrail|loses value per visitor)/);
    expect(await servedVersion(worker)).toBe("e2e-second");
  }, 180_000);

  test("promo catalogue publishes the operator's catalogue; a per-action policy gives way to the control until reset", async () => {
    expect(await servedVersion(worker)).toBe("e2e-second");
    const printed = vi.spyOn(console, "log").mockImplementation(() => {});
    const shown = async () => {
      printed.mockClear();
      expect(await promo("catalogue", "show", "--json")).toBe(0);
      return JSON.parse(String(printed.mock.calls.at(-1)![0])) as { source: string; promotions: string[] };
    };
    expect(await shown()).toMatchObject({ source: "built-in" });

    expect(await promo("catalogue", "publish", "docs/catalogue.example.json")).toBe(0);
    expect(await shown()).toMatchObject({ source: "kv", promotions: expect.arrayContaining(["pct15"]) });
    // The Q-table knows the old promotions only: the control serves the new catalogue.
    expect(await servedVersion(worker)).toBe("fallback");
    const answer = await fetch(`${worker.url}/v1/decide`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ context: { page: "cart", cartValue: 80 }, candidates: ["pct15"] }),
    });
    expect(answer.status).toBe(200);
    expect(["none", "pct15"]).toContain(((await answer.json()) as { promotion: { id: string } }).promotion.id);

    // A file the edge would refuse is refused before anything is written.
    const bad = join(dir, "bad-catalogue.json");
    await writeFile(bad, JSON.stringify({ promotions: [] }));
    expect(await promo("catalogue", "publish", bad)).toBe(1);
    expect(await shown()).toMatchObject({ source: "kv" });

    expect(await promo("catalogue", "reset")).toBe(0);
    printed.mockRestore();
    expect(await servedVersion(worker)).toBe("e2e-second");
  });
});
