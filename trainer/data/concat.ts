import type { Dataset } from "./dataset.ts";

/**
 * Several datasets as one, e.g. the logs of successive rounds, each served by another policy. Each
 * step keeps its own propensity, so the learners weigh it by the policy that really logged it.
 * Links between decisions never cross parts.
 */
export function concatDatasets(parts: readonly Dataset[]): Dataset {
  const first = parts[0];
  if (!first) throw new RangeError("nothing to concatenate");
  for (const part of parts) {
    if (part.featureSpecHash !== first.featureSpecHash || part.actions.join() !== first.actions.join()) {
      throw new RangeError("datasets with different feature specs or actions cannot be concatenated");
    }
  }
  const states: Dataset["states"] = [];
  const steps: Dataset["steps"] = [];
  const skipped: Dataset["skipped"] = {};
  for (const part of parts) {
    const offset = states.length;
    for (const state of part.states) states.push(state);
    for (const step of part.steps) {
      steps.push({ ...step, state: step.state + offset, next: step.next >= 0 ? step.next + offset : -1 });
    }
    for (const [reason, n] of Object.entries(part.skipped)) skipped[reason] = (skipped[reason] ?? 0) + n;
  }
  const nonEmpty = parts.filter((p) => p.steps.length > 0);
  return {
    ...first,
    states,
    steps,
    heldBack: parts.reduce((n, p) => n + p.heldBack, 0),
    skipped,
    window: nonEmpty.length
      ? {
          from: Math.min(...nonEmpty.map((p) => p.window.from)),
          to: Math.max(...nonEmpty.map((p) => p.window.to)),
        }
      : first.window,
  };
}
