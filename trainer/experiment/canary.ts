import { ExperimentRegistry } from "../../shared/experiment-registry.ts";
import type { Experiment } from "../../shared/experiment.ts";
import type { PolicyKv } from "../../shared/policy-kv.ts";
import { PolicyRegistry } from "../../shared/policy-registry.ts";
import type { PolicyPointer } from "../../shared/policy-store.ts";

export interface CanaryOptions {
  id: string;
  candidate: PolicyPointer;
  /** What serves today: the current policy, or null when the edge serves the control. */
  current: PolicyPointer | null;
  /** The candidate's share of visitors, in (0, 1). */
  share: number;
  startedAt: Date;
  monitor?: Experiment["monitor"];
}

/**
 * A canary: what serves today (the current policy, or the control) against the candidate on
 * `share` of visitors. The first arm is the baseline the monitor compares with.
 */
export function canaryExperiment(options: CanaryOptions): Experiment {
  const { current, candidate, share } = options;
  return {
    id: options.id,
    startedAt: options.startedAt.toISOString(),
    ...(options.monitor ? { monitor: options.monitor } : {}),
    arms: [
      current === null
        ? { name: "control", serves: { type: "control" }, weight: 1 - share }
        : { name: "current", serves: { type: "policy", ...current }, weight: 1 - share },
      { name: "candidate", serves: { type: "policy", ...candidate }, weight: share },
    ],
  };
}

/** Starts a canary of `candidate` (a stored version) against what serves today. */
export async function startCanary(
  kv: PolicyKv,
  options: { candidate: PolicyPointer; share: number; id?: string; autoPromote: boolean; now: Date },
): Promise<Experiment> {
  const experiment = canaryExperiment({
    id: options.id ?? `canary-${options.candidate.version}`,
    candidate: options.candidate,
    current: await new PolicyRegistry(kv).current(),
    share: options.share,
    startedAt: options.now,
    ...(options.autoPromote ? { monitor: { autoPromote: true } } : {}),
  });
  await new ExperimentRegistry(kv).start(experiment);
  return experiment;
}
