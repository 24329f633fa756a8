import type { Catalogue } from "../../shared/catalogue.ts";
import { decisionColumns, outcomesByDecision } from "../../shared/log-row.ts";
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

/** A logged decision with the outcomes reported for it: the unit a trajectory-ordered source hands over. */
export interface DecisionWithOutcomes {
  decision: DecisionRow;
  /** Its outcomes that passed the checks on their own (kind, value, timestamp, not a repeat). */
  outcomes: readonly OutcomeRow[];
}

/**
 * Decisions in trajectory order, each once with its outcomes, from a source that sorts them itself
 * (out of memory), with the outcomes it set aside on its own.
 */
export interface TrajectoryStream {
  chunks: AsyncIterable<readonly DecisionWithOutcomes[]>;
  /** Outcomes the source could not group with a decision, by reason; complete once `chunks` is read. */
  skipped(): SkipCounts;
}

/** Where the builder puts what it makes: a dataset in memory, or a consumer that keeps only totals. */
export interface TransitionSink {
  /** Takes a usable decision's state and returns the index that steps will refer to it by. */
  state(state: LoggedState): number;
  step(step: Step): void;
}

/** What the builder could not use, and how many decisions wait for their outcomes. */
export interface BuildTotals {
  heldBack: number;
  skipped: SkipCounts;
}

type Checked<T> = { ok: T } | { reason: string };

/** The previous decision, waiting for the next one, which decides whether its step (if it has one) is terminal. */
interface Pending extends TrajectoryPosition {
  step: Step | undefined;
  /** Index of its state, or -1 when the decision could not be used. */
  state: number;
}

/**
 * Turns decisions, in trajectory order (visitor, then time, then id), into steps. Only the previous
 * decision is kept, because a decision's next state is the one that follows it in that order: memory
 * does not grow with the log, so a source that sorts out of memory (DuckDB over the archive) can feed
 * any number of decisions. Every row that cannot become part of the dataset is counted in `skipped`
 * under a reason ("decision:…" or "outcome:…").
 */
export class TransitionBuilder {
  readonly #options: Required<Omit<BuildDatasetOptions, "encoder">> & { encoder: Encoder };
  readonly #actionIndex: ReadonlyMap<string, number>;
  readonly #sink: TransitionSink;
  readonly #totals: BuildTotals = { heldBack: 0, skipped: {} };
  #pending: Pending | undefined;

  constructor(options: BuildDatasetOptions, sink: TransitionSink) {
    const encoder = options.encoder ?? DEFAULT_ENCODER;
    const actions = options.catalogue.map((p) => p.id);
    assertSameActions(encoder.actions, actions);
    this.#options = {
      ...options,
      encoder,
      attributionWindowMs: options.attributionWindowMs ?? DEFAULT_ATTRIBUTION_WINDOW_MS,
      horizonMs: options.horizonMs ?? DEFAULT_HORIZON_MS,
    };
    this.#actionIndex = new Map(actions.map((id, i) => [id, i]));
    this.#sink = sink;
  }

  skip(reason: string, count = 1): void {
    this.#totals.skipped[reason] = (this.#totals.skipped[reason] ?? 0) + count;
  }

  add({ decision: row, outcomes }: DecisionWithOutcomes): void {
    const checked = checkDecision(row, this.#options.encoder, this.#actionIndex);
    if ("reason" in checked) {
      this.skip(`decision:${checked.reason}`);
      if (outcomes.length > 0) this.skip("outcome:decision-unusable", outcomes.length);
      // Without a time or a visitor a row has no place in any trajectory, so it breaks none.
      if (checked.reason !== "bad-timestamp" && checked.reason !== "missing-visitor") {
        this.#follow({ step: undefined, visitorHash: row.visitorHash, ts: row.ts, id: row.id, state: -1 });
      }
      return;
    }
    const { action, state } = checked.ok;
    const index = this.#sink.state(state);
    const { attributionWindowMs, catalogue, reward, now } = this.#options;
    const credited: AttributedOutcome[] = [];
    // In one order whatever the source's, so that the float sum is the same from every source.
    for (const outcome of outcomes.length > 1 ? [...outcomes].sort(reportOrder) : outcomes) {
      if (outcome.ts < row.ts || outcome.ts > row.ts + attributionWindowMs) this.skip("outcome:outside-window");
      else credited.push({ kind: outcome.kind, value: outcome.value });
    }
    // Its outcomes may still arrive: counting it now would score a pending success as zero.
    const matured = row.ts + attributionWindowMs <= now;
    if (!matured) this.#totals.heldBack++;
    this.#follow({
      step: matured
        ? {
            state: index,
            action,
            propensity: row.propensity,
            reward: rewardOf(credited, action, catalogue, reward),
            next: -1,
            visitor: row.visitorHash,
            ts: row.ts,
            decisionId: row.id,
          }
        : undefined,
      visitorHash: row.visitorHash,
      ts: row.ts,
      id: row.id,
      state: index,
    });
  }

  /** Emits the last step and returns the totals. */
  finish(): BuildTotals {
    if (this.#pending?.step) this.#sink.step(this.#pending.step);
    this.#pending = undefined;
    return this.#totals;
  }

  /**
   * Links the previous decision to `current` when it is the same visitor's next one within the
   * horizon. When either is unusable the step is terminal: its true next state is unknown, and
   * skipping over it would invent a transition that never happened.
   */
  #follow(current: Pending): void {
    const previous = this.#pending;
    if (previous && trajectoryOrder(previous, current) > 0) {
      throw new Error(`decision ${current.id} is out of trajectory order (visitor, time, id)`);
    }
    if (previous?.step) {
      const linked =
        current.visitorHash === previous.visitorHash &&
        previous.state !== -1 &&
        current.state !== -1 &&
        current.ts - previous.ts <= this.#options.horizonMs;
      if (linked) previous.step.next = current.state;
      this.#sink.step(previous.step);
    }
    this.#pending = current;
  }
}

/**
 * Joins logged decisions and outcomes, held in memory, into the trainer's {@link Dataset}. Pure: the
 * caller reads the logs and chooses `now`.
 */
export function buildDataset(
  decisions: Iterable<DecisionRow>,
  outcomes: Iterable<OutcomeRow>,
  options: BuildDatasetOptions,
): Dataset {
  const { sink, dataset } = datasetSink(options);
  const builder = new TransitionBuilder(options, sink);
  const unique = new Map<string, DecisionRow>();
  for (const row of decisions) {
    // The first occurrence of an id wins.
    if (unique.has(row.id)) builder.skip("decision:duplicate-id");
    else unique.set(row.id, row);
  }
  const reported = outcomesByDecision(checkedOutcomes(outcomes, unique, (reason) => builder.skip(reason)));
  const ordered = [...unique.values()].sort((a, b) => {
    const placedA = hasPlace(a);
    const placedB = hasPlace(b);
    if (placedA !== placedB) return placedA ? 1 : -1;
    return placedA ? trajectoryOrder(a, b) : 0;
  });
  for (const decision of ordered) builder.add({ decision, outcomes: reported.get(decision.id) ?? [] });
  return dataset(builder.finish());
}

/**
 * Builds the dataset from a source that hands decisions over in trajectory order, each with its
 * outcomes (the archive, sorted by DuckDB): only the dataset itself is held, never the raw rows.
 */
export async function buildDatasetFromTrajectories(
  trajectories: TrajectoryStream,
  options: BuildDatasetOptions,
): Promise<Dataset> {
  const { sink, dataset } = datasetSink(options);
  return dataset(await buildTransitions(trajectories, options, sink));
}

/** Feeds a source's trajectories through a {@link TransitionBuilder} into `sink`. */
export async function buildTransitions(
  trajectories: TrajectoryStream,
  options: BuildDatasetOptions,
  sink: TransitionSink,
): Promise<BuildTotals> {
  const builder = new TransitionBuilder(options, sink);
  for await (const chunk of trajectories.chunks) for (const group of chunk) builder.add(group);
  for (const [reason, count] of Object.entries(trajectories.skipped())) builder.skip(reason, count);
  return builder.finish();
}

/** A sink that keeps every state and step, and the dataset made of them once the builder is done. */
function datasetSink(options: BuildDatasetOptions): {
  sink: TransitionSink;
  dataset: (totals: BuildTotals) => Dataset;
} {
  const encoder = options.encoder ?? DEFAULT_ENCODER;
  const states: LoggedState[] = [];
  const steps: Step[] = [];
  return {
    sink: { state: (state) => states.push(state) - 1, step: (step) => void steps.push(step) },
    dataset: ({ heldBack, skipped }) => ({
      actions: options.catalogue.map((p) => p.id),
      featureSpecHash: encoder.hash,
      featureWidth: encoder.width,
      stateCount: encoder.stateCount,
      slotNames: encoder.slotNames,
      states,
      steps,
      heldBack,
      skipped,
      window: dataWindow(steps),
    }),
  };
}

/**
 * The outcomes that pass the checks an outcome passes on its own and the lookup of its decision.
 * Checks run in this order, so a row is counted under its first problem.
 */
function checkedOutcomes(
  outcomes: Iterable<OutcomeRow>,
  decisions: ReadonlyMap<string, DecisionRow>,
  skip: (reason: string) => void,
): OutcomeRow[] {
  const usable: OutcomeRow[] = [];
  const seen = new Set<string>();
  for (const outcome of outcomes) {
    const reason =
      outcomeProblem(outcome, seen) ?? (decisions.has(outcome.decisionId) ? undefined : "without-decision");
    if (reason) skip(`outcome:${reason}`);
    else usable.push(outcome);
  }
  return usable;
}

/** Why an outcome cannot count whatever its decision, or undefined. */
function outcomeProblem(outcome: OutcomeRow, seen: Set<string>): string | undefined {
  if (!(OUTCOME_KINDS as readonly string[]).includes(outcome.kind)) return "unknown-kind";
  if (!(Number.isFinite(outcome.value) && outcome.value >= 0)) return "bad-value";
  if (!Number.isFinite(outcome.ts)) return "bad-timestamp";
  // D1's primary key makes this impossible there; a concatenated export can still repeat a report.
  const key = JSON.stringify([outcome.decisionId, outcome.kind, outcome.eventKey]);
  if (seen.has(key)) return "duplicate";
  seen.add(key);
  return undefined;
}

function reportOrder(a: OutcomeRow, b: OutcomeRow): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return a.eventKey < b.eventKey ? -1 : a.eventKey > b.eventKey ? 1 : 0;
}

/** Whether a decision can sit in a trajectory: it has a time and a visitor. */
function hasPlace(row: DecisionRow): boolean {
  return Number.isFinite(row.ts) && row.visitorHash !== "";
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

type TrajectoryPosition = Pick<DecisionRow, "visitorHash" | "ts" | "id">;

/** Visitor, then time, then id (so that equal timestamps still sort the same way every run). */
function trajectoryOrder(a: TrajectoryPosition, b: TrajectoryPosition): number {
  if (a.visitorHash !== b.visitorHash) return a.visitorHash < b.visitorHash ? -1 : 1;
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
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
