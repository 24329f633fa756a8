import { ExperimentRegistry } from "../../shared/experiment-registry.ts";
import type { Experiment } from "../../shared/experiment.ts";
import type { PolicyKv, PolicyListing } from "../../shared/policy-kv.ts";
import { PolicyRegistry } from "../../shared/policy-registry.ts";
import type { PolicyPointer } from "../../shared/policy-store.ts";

export interface CanaryOptions {
  id: string;
  /** The version tried live on `share` of visitors; null for a shadow run alone. */
  candidate: PolicyPointer | null;
  /** A version asked at every decision and never served. */
  shadow?: PolicyPointer | null;
  /** What serves today: the current policy, or null when the edge serves the control. */
  current: PolicyPointer | null;
  /** The candidate's share of visitors, in (0, 1). */
  share: number;
  startedAt: Date;
  monitor?: Experiment["monitor"];
}

/**
 * A canary: what serves today (the current policy, or the control) against the candidate on
 * `share` of visitors, optionally with a shadow; or, with no candidate, a shadow run beside what
 * serves today. The first arm is the baseline the monitor compares with.
 */
export function canaryExperiment(options: CanaryOptions): Experiment {
  const { current, candidate, share, shadow } = options;
  const baselineWeight = candidate === null ? 1 : 1 - share;
  return {
    id: options.id,
    startedAt: options.startedAt.toISOString(),
    ...(options.monitor ? { monitor: options.monitor } : {}),
    ...(shadow ? { shadow } : {}),
    arms: [
      current === null
        ? { name: "control", serves: { type: "control" }, weight: baselineWeight }
        : { name: "current", serves: { type: "policy", ...current }, weight: baselineWeight },
      ...(candidate === null
        ? []
        : [{ name: "candidate", serves: { type: "policy" as const, ...candidate }, weight: share }]),
    ],
  };
}

/** Starts a canary of `candidate` (a stored version), and/or a shadow run, against what serves today. */
export async function startCanary(
  kv: PolicyKv,
  options: {
    candidate: PolicyPointer | null;
    shadow?: PolicyPointer | null;
    share: number;
    id?: string;
    autoPromote: boolean;
    now: Date;
  },
): Promise<Experiment> {
  const named = options.candidate ?? options.shadow;
  if (!named) throw new RangeError("a canary needs a candidate or a shadow");
  const experiment = canaryExperiment({
    id: options.id ?? `${options.candidate ? "canary" : "shadow"}-${named.version}`,
    candidate: options.candidate,
    shadow: options.shadow ?? null,
    current: await new PolicyRegistry(kv).current(),
    share: options.share,
    startedAt: options.now,
    ...(options.autoPromote ? { monitor: { autoPromote: true } } : {}),
  });
  await new ExperimentRegistry(kv).start(experiment);
  return experiment;
}

/** Stores the policy `bytes` (a version not yet served) and starts a canary of it. */
export async function storeAndStartCanary(
  kv: PolicyKv,
  bytes: Uint8Array,
  options: { share: number; autoPromote: boolean; now: Date },
): Promise<{ stored: PolicyListing; experiment: Experiment }> {
  const stored = await new PolicyRegistry(kv).store(bytes);
  const experiment = await startCanary(kv, {
    candidate: { version: stored.version, sha256: stored.sha256 },
    ...options,
  });
  return { stored, experiment };
}
