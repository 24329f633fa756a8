import type { Catalogue } from "../../shared/catalogue.ts";
import { decisionColumns } from "../../shared/log-row.ts";
import { OUTCOME_KINDS, type DecisionRow, type OutcomeRow } from "../../shared/schema.ts";
import type { Dataset, LoggedState, SkipCounts, Step } from "./dataset.ts";
import { DEFAULT_ENCODER, type Encoder, type Encoding } from "./encoders.ts";
import { rewardOf, type AttributedOutcome, type RewardSpec } from "../../shared/reward.ts";

const DAY_MS = 86_400_000;

/** How long after a decision its outcomes still count: the edge accepts outcome reports for 7 days. */
export const DEFAULT_ATTRIBUTION_WINDOW_MS = 7 * DAY_MS;

/**
 * How far ahead the same visitor's next decision still counts as this step's next state. 7 days,
 * because that is as long as the visitor state the edge keeps (exposures, promotions seen) remembers
 * a decision: a later page view no longer sees this one through its features, so linking it would
 * claim a dependence the state cannot carry.
 */
export const DEFAULT_HORIZON_MS = 7 * DAY_MS;

export interface BuildDatasetOptions {
  /** Action ids are the catalogue's ids, in its order; it also prices each promotion for the reward. */
  catalogue: Catalogue;
  reward: RewardSpec;
  /** Reference time (ms). Decisions whose attribution window is still open at `now` are held back. */
  now: number;
  /** Defaults to the edge's current feature spec. Its actions must be the catalogue's ids. */
  encoder?: Encoder;
  attributionWindowMs?: number;
  horizonMs?: number;
}

/** A decision that passed every check, with its state encoded. */
interface UsableDecision {
  row: DecisionRow;
  action: number;
  /** Index into the dataset's states. */
  state: number;
  outcomes: AttributedOutcome[];
}

type Checked<T> = { ok: T } | { reason: string };

/**
 * Joins logged decisions and outcomes into the trainer's {@link Dataset}. Every row that cannot
 * become part of it is counted in `skipped` under a reason ("decision:…" or "outcome:…").
 * Pure: the caller reads the logs and chooses `now`.
 */
export function buildDataset(
  decisions: Iterable<DecisionRow>,
  outcomes: Iterable<OutcomeRow>,
  options: BuildDatasetOptions,
): Dataset {
  const encoder = options.encoder ?? DEFAULT_ENCODER;
  const windowMs = options.attributionWindowMs ?? DEFAULT_ATTRIBUTION_WINDOW_MS;
  const horizonMs = options.horizonMs ?? DEFAULT_HORIZON_MS;
  const actions = options.catalogue.map((p) => p.id);
  assertSameActions(encoder.actions, actions);
  const actionIndex = new Map(actions.map((id, i) => [id, i]));

  const skipped: SkipCounts = {};
  const skip = (reason: string) => void (skipped[reason] = (skipped[reason] ?? 0) + 1);

  const { usable, unusableIds, timeline, states } = admitDecisions(decisions, encoder, actionIndex, skip);
  attributeOutcomes(outcomes, usable, unusableIds, windowMs, skip);

  const next = nextStates(timeline, horizonMs);
  const steps: Step[] = [];
  let heldBack = 0;
  for (const decision of usable.values()) {
    const { row } = decision;
    // Its outcomes may still arrive: counting it now would score a pending success as zero.
    if (row.ts + windowMs > options.now) {
      heldBack++;
      continue;
    }
    steps.push({
      state: decision.state,
      action: decision.action,
      propensity: row.propensity,
      reward: rewardOf(decision.outcomes, decision.action, options.catalogue, options.reward),
      next: next.get(row.id) ?? -1,
      visitor: row.visitorHash,
      ts: row.ts,
      decisionId: row.id,
    });
  }
  steps.sort((a, b) => trajectoryOrder(a.visitor, a.ts, a.decisionId, b.visitor, b.ts, b.decisionId));

  return {
    actions,
    featureSpecHash: encoder.hash,
    featureWidth: encoder.width,
    stateCount: encoder.stateCount,
    slotNames: encoder.slotNames,
    states,
    steps,
    heldBack,
    skipped,
    window: dataWindow(steps),
  };
}

/** The decisions that pass every check, with their states; and a timeline of all of them, for next-state links. */
function admitDecisions(
  decisions: Iterable<DecisionRow>,
  encoder: Encoder,
  actionIndex: ReadonlyMap<string, number>,
  skip: (reason: string) => void,
) {
  const usable = new Map<string, UsableDecision>();
  const unusableIds = new Set<string>();
  // Unusable decisions stay on the timeline as gaps (state -1).
  const timeline: TimelineEntry[] = [];
  const states: LoggedState[] = [];
  for (const row of decisions) {
    // The first occurrence of an id wins.
    if (usable.has(row.id) || unusableIds.has(row.id)) {
      skip("decision:duplicate-id");
      continue;
    }
    const checked = checkDecision(row, encoder, actionIndex);
    if ("reason" in checked) {
      skip(`decision:${checked.reason}`);
      unusableIds.add(row.id);
      if (Number.isFinite(row.ts) && row.visitorHash)
        timeline.push({ visitor: row.visitorHash, ts: row.ts, id: row.id, state: -1 });
      continue;
    }
    usable.set(row.id, { row, action: checked.ok.action, state: states.length, outcomes: [] });
    timeline.push({ visitor: row.visitorHash, ts: row.ts, id: row.id, state: states.length });
    states.push(checked.ok.state);
  }
  return { usable, unusableIds, timeline, states };
}

/** Credits each outcome to its decision when it falls inside the attribution window. */
function attributeOutcomes(
  outcomes: Iterable<OutcomeRow>,
  usable: ReadonlyMap<string, UsableDecision>,
  unusableIds: ReadonlySet<string>,
  windowMs: number,
  skip: (reason: string) => void,
): void {
  const seen = new Set<string>();
  for (const outcome of outcomes) {
    const reason = attributionProblem(outcome, usable, unusableIds, seen, windowMs);
    if (reason) skip(`outcome:${reason}`);
    else usable.get(outcome.decisionId)!.outcomes.push({ kind: outcome.kind, value: outcome.value });
  }
}

function assertSameActions(encoderActions: readonly string[], catalogueActions: readonly string[]): void {
  const same =
    encoderActions.length === catalogueActions.length && encoderActions.every((id, i) => id === catalogueActions[i]);
  if (!same) {
    throw new Error(
      `the encoder's actions [${encoderActions.join(", ")}] differ from the catalogue's [${catalogueActions.join(", ")}]`,
    );
  }
}

/** A decision's usable state, or the first reason it has none. Checks run cheapest first. */
function checkDecision(
  row: DecisionRow,
  encoder: Encoder,
  actionIndex: ReadonlyMap<string, number>,
): Checked<{ action: number; state: LoggedState }> {
  if (!Number.isFinite(row.ts)) return { reason: "bad-timestamp" };
  if (!row.visitorHash) return { reason: "missing-visitor" };
  const action = actionIndex.get(row.action);
  if (action === undefined) return { reason: "unknown-action" };
  if (!(row.propensity > 0 && row.propensity <= 1)) return { reason: "propensity-out-of-range" };
  const eligible = eligibleMask(row, actionIndex);
  if ("reason" in eligible) return eligible;
  // The propensity was computed under this mask: an action outside it contradicts the log.
  if (!eligible.ok[action]) return { reason: "action-not-eligible" };
  const encoding = row.featureSpecHash === encoder.hash ? storedEncoding(row, encoder) : reencode(row, encoder);
  if ("reason" in encoding) return encoding;
  return {
    ok: { action, state: { features: encoding.ok.features, stateKey: encoding.ok.stateKey, eligible: eligible.ok } },
  };
}

function eligibleMask(row: DecisionRow, actionIndex: ReadonlyMap<string, number>): Checked<Uint8Array> {
  const ids = decisionColumns.eligible(row);
  if (ids === undefined) return { reason: "bad-eligible" };
  const mask = new Uint8Array(actionIndex.size);
  for (const id of ids) {
    const index = actionIndex.get(id);
    // An eligible id the catalogue no longer has means the action space changed under this row.
    if (index === undefined) return { reason: "unknown-eligible-action" };
    mask[index] = 1;
  }
  return { ok: mask };
}

/** Features the edge stored with the row, under the same spec: reused, after checking they fit. */
function storedEncoding(row: DecisionRow, encoder: Encoder): Checked<Encoding> {
  const values = decisionColumns.features(row);
  if (values === undefined || values.length !== encoder.width) return { reason: "bad-stored-features" };
  if (!(Number.isInteger(row.stateKey) && row.stateKey >= 0 && row.stateKey < encoder.stateCount)) {
    return { reason: "bad-stored-state-key" };
  }
  return { ok: { features: Float32Array.from(values), stateKey: row.stateKey } };
}

/** A row logged under another spec: its raw context is encoded again with the current one. */
function reencode(row: DecisionRow, encoder: Encoder): Checked<Encoding> {
  const context = decisionColumns.context(row);
  if (context === undefined) return { reason: "bad-context-json" };
  const encoding = encoder.encode(context);
  return "error" in encoding ? { reason: encoding.error } : { ok: encoding };
}

/** Why an outcome cannot be credited to a decision, or undefined when it can. */
function attributionProblem(
  outcome: OutcomeRow,
  usable: ReadonlyMap<string, UsableDecision>,
  unusableIds: ReadonlySet<string>,
  seen: Set<string>,
  windowMs: number,
): string | undefined {
  if (!(OUTCOME_KINDS as readonly string[]).includes(outcome.kind)) return "unknown-kind";
  if (!(Number.isFinite(outcome.value) && outcome.value >= 0)) return "bad-value";
  if (!Number.isFinite(outcome.ts)) return "bad-timestamp";
  // D1's primary key makes this impossible there; a concatenated export can still repeat a report.
  const key = JSON.stringify([outcome.decisionId, outcome.kind, outcome.eventKey]);
  if (seen.has(key)) return "duplicate";
  seen.add(key);
  const decision = usable.get(outcome.decisionId);
  if (!decision) return unusableIds.has(outcome.decisionId) ? "decision-unusable" : "without-decision";
  const { ts } = decision.row;
  if (outcome.ts < ts || outcome.ts > ts + windowMs) return "outside-window";
  return undefined;
}

interface TimelineEntry {
  visitor: string;
  ts: number;
  id: string;
  /** Index into the states, or -1 for a decision that could not be used. */
  state: number;
}

/**
 * Each decision's next state: the same visitor's following decision, if it comes within the horizon.
 * When that following decision is unusable the step is terminal: its true next state is unknown,
 * and skipping over it would invent a transition that never happened.
 */
function nextStates(timeline: TimelineEntry[], horizonMs: number): Map<string, number> {
  const sorted = [...timeline].sort((a, b) => trajectoryOrder(a.visitor, a.ts, a.id, b.visitor, b.ts, b.id));
  const next = new Map<string, number>();
  for (let i = 0; i + 1 < sorted.length; i++) {
    const current = sorted[i]!;
    const following = sorted[i + 1]!;
    if (current.state === -1 || following.state === -1 || following.visitor !== current.visitor) continue;
    if (following.ts - current.ts <= horizonMs) next.set(current.id, following.state);
  }
  return next;
}

/** Visitor, then time, then id (so that equal timestamps still sort the same way every run). */
function trajectoryOrder(
  visitorA: string,
  tsA: number,
  idA: string,
  visitorB: string,
  tsB: number,
  idB: string,
): number {
  if (visitorA !== visitorB) return visitorA < visitorB ? -1 : 1;
  if (tsA !== tsB) return tsA - tsB;
  return idA < idB ? -1 : idA > idB ? 1 : 0;
}

/** Time span of the steps (the decisions trained on); 0–0 when there are none. */
function dataWindow(steps: readonly Step[]): { from: number; to: number } {
  if (steps.length === 0) return { from: 0, to: 0 };
  let from = Infinity;
  let to = -Infinity;
  for (const step of steps) {
    from = Math.min(from, step.ts);
    to = Math.max(to, step.ts);
  }
  return { from, to };
}
