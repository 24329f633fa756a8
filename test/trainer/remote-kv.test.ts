import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { ExperimentRegistry } from "../../shared/experiment-registry.ts";
import { EXPERIMENT_KEY } from "../../shared/experiment.ts";
import { PolicyRegistry } from "../../shared/policy-registry.ts";
import { encodePolicy } from "../../shared/policy/format.ts";
import { canaryExperiment } from "../../trainer/experiment/canary.ts";
import { main } from "../../trainer/cli/main.ts";
import { remotePolicyKv } from "../../trainer/publish/remote-kv.ts";
import { favouringPolicy } from "./support/policies.ts";
import {
  KV_STUB_ACCOUNT,
  KV_STUB_NAMESPACE,
  KV_STUB_TOKEN,
  startKvApiStub,
  type KvApiStub,
} from "./support/kv-api-stub.ts";

let stub: KvApiStub;
beforeAll(async () => {
  stub = await startKvApiStub();
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await stub?.close();
});

test("experiments start, show and end on a remote KV namespace through the Cloudflare API", async () => {
  const kv = remotePolicyKv({
    accountId: KV_STUB_ACCOUNT,
    namespaceId: KV_STUB_NAMESPACE,
    apiToken: KV_STUB_TOKEN,
    baseUrl: stub.baseUrl,
  });
  const stored = await new PolicyRegistry(kv).store(encodePolicy(favouringPolicy("remote-cand", "none")));
  const experiments = new ExperimentRegistry(kv);
  await experiments.start(
    canaryExperiment({
      id: "remote-canary",
      candidate: { version: stored.version, sha256: stored.sha256 },
      current: null,
      share: 0.2,
      startedAt: new Date("2026-11-02T00:00:00.000Z"),
    }),
  );
  expect(stub.values.has(EXPERIMENT_KEY)).toBe(true);

  // The CLI reaches the same namespace from the environment's credentials.
  vi.stubEnv("CLOUDFLARE_ACCOUNT_ID", KV_STUB_ACCOUNT);
  vi.stubEnv("CLOUDFLARE_KV_NAMESPACE_ID", KV_STUB_NAMESPACE);
  vi.stubEnv("CLOUDFLARE_API_TOKEN", KV_STUB_TOKEN);
  vi.stubEnv("CLOUDFLARE_API_BASE_URL", stub.baseUrl);
  const printed = vi.spyOn(console, "log").mockImplementation(() => {});
  expect(await main(["experiment", "status", "--target", "remote", "--json"])).toBe(0);
  expect(JSON.parse(String(printed.mock.calls.at(-1)![0]))).toMatchObject({
    running: {
      id: "remote-canary",
      arms: [
        { name: "control", weight: 0.8 },
        { name: "candidate", weight: 0.2 },
      ],
    },
  });
  expect(await main(["experiment", "stop", "--target", "remote", "--reason", "remote test", "--json"])).toBe(0);
  printed.mockRestore();

  expect(stub.values.has(EXPERIMENT_KEY)).toBe(false);
  expect(await experiments.last()).toMatchObject({ outcome: "stopped", by: "operator", reason: "remote test" });
});
