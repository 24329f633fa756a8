import { basename, dirname, join, resolve } from "node:path";
import { catalogueHash } from "../../shared/catalogue-document.ts";
import { fingerprint } from "../../shared/hash.ts";
import { toDecisionRow } from "../../shared/log-row.ts";
import type { LogMessage } from "../../shared/schema.ts";
import { readCsv, type CsvRecord } from "./csv.ts";
import type { Encoder } from "../data/encoders.ts";
import { writeJsonl } from "../runtime/jsonl.ts";
import { LOG_META_VERSION, type LogMeta } from "../data/log-meta.ts";
import { obdCatalogue, obdEncoder, type ObdEncoderDescriptor } from "./encoder.ts";
import { startProgress, type ProgressSink } from "../runtime/progress.ts";
import type { RewardSpec } from "../../shared/reward.ts";

/**
 * Converts the Open Bandit Dataset (ZOZOTOWN, Saito et al. 2020) into the JSONL log format, so that
 * the trainer and the off-policy estimators run on real logged-bandit data:
 * `<obd>/<policy>/<campaign>/{<campaign>.csv, item_context.csv}` → a meta line, then one decision
 * per impression and one click outcome per click.
 */

/** OBD's only outcome is the click; there is no order, margin or promotion cost. */
export const OBD_REWARD_SPEC: RewardSpec = { clickValue: 1, marginRate: 0, refundRate: 0 };

const USER_FEATURE_COUNT = 4;
const WRITE_BATCH = 1000;

/** Which logging policy and campaign a file holds, from its directory: `<policy>/<campaign>`. */
export interface ObdOrigin {
  policy: string;
  campaign: string;
}

export interface ObdImpression {
  /** The row's index column: unique within the file. */
  index: string;
  ts: number;
  item: number;
  position: number;
  click: boolean;
  propensity: number;
  userFeatures: string[];
  affinities: number[];
}

export interface ObdImportSummary {
  decisions: number;
  clicks: number;
  meta: LogMeta;
}

export async function importObd(
  campaignDir: string,
  outPath: string,
  progress: ProgressSink = {},
): Promise<ObdImportSummary> {
  const dir = resolve(campaignDir);
  const origin: ObdOrigin = { policy: basename(dirname(dir)), campaign: basename(dir) };
  const logPath = join(dir, `${origin.campaign}.csv`);
  const itemCount = await countItems(join(dir, "item_context.csv"));
  // Two passes: the encoder's vocabularies (in the meta line, first in the file) need every row.
  const { descriptor, rows } = await scanEncoding(logPath, itemCount);
  const encoder = obdEncoder(descriptor);
  const meta: LogMeta = {
    type: "meta",
    version: LOG_META_VERSION,
    dataset: `obd ${origin.policy}/${origin.campaign}`,
    encoder: descriptor,
    reward: OBD_REWARD_SPEC,
  };

  const shown = startProgress({ ...progress, label: `importing ${origin.policy}/${origin.campaign}`, total: rows });
  const summary = await writeJsonl(outPath, async (writer) => {
    await writer.write([meta]);
    let decisions = 0;
    let clicks = 0;
    let batch: LogMessage[] = [];
    for await (const record of readCsv(logPath)) {
      const messages = impressionMessages(parseImpression(record, itemCount, logPath), origin, encoder);
      batch.push(...messages);
      decisions++;
      clicks += messages.length - 1;
      shown.add(1);
      if (batch.length >= WRITE_BATCH) {
        await writer.write(batch);
        batch = [];
      }
    }
    await writer.write(batch);
    return { decisions, clicks, meta };
  });
  shown.done();
  return summary;
}

/** The encoder a log needs: the user-feature values it contains, and its number of slots. */
async function scanEncoding(
  logPath: string,
  itemCount: number,
): Promise<{ descriptor: ObdEncoderDescriptor; rows: number }> {
  const counts = Array.from({ length: USER_FEATURE_COUNT }, () => new Map<string, number>());
  let rows = 0;
  let positionCount = 0;
  for await (const record of readCsv(logPath)) {
    const impression = parseImpression(record, itemCount, logPath);
    impression.userFeatures.forEach((value, k) => counts[k]!.set(value, (counts[k]!.get(value) ?? 0) + 1));
    positionCount = Math.max(positionCount, impression.position);
    rows++;
  }
  return { descriptor: { name: "obd", userFeatureValues: counts.map(byFrequency), itemCount, positionCount }, rows };
}

/** Items are the actions; their ids must run 0..n-1, since the log refers to them by number. */
async function countItems(path: string): Promise<number> {
  const ids: number[] = [];
  for await (const { values, line } of readCsv(path)) {
    const id = Number(values.item_id);
    if (!Number.isInteger(id)) throw new Error(`${path}:${line}: item_id "${values.item_id}" is not an integer`);
    ids.push(id);
  }
  ids.sort((a, b) => a - b);
  if (ids.length === 0 || ids.some((id, i) => id !== i)) throw new Error(`${path}: item ids must be 0..n-1`);
  return ids.length;
}

/** Values most frequent first (ties by value), so that the encoder does not depend on row order. */
function byFrequency(counts: ReadonlyMap<string, number>): string[] {
  return [...counts].sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : 1)).map(([value]) => value);
}

function parseImpression({ values, line }: CsvRecord, itemCount: number, path: string): ObdImpression {
  const where = `${path}:${line}`;
  const number = (column: string): number => {
    const raw = values[column];
    const n = raw === undefined || raw === "" ? NaN : Number(raw);
    if (!Number.isFinite(n)) throw new Error(`${where}: column ${column} is "${raw ?? "(missing)"}", not a number`);
    return n;
  };
  // "2019-11-24 00:03:13.442536+00:00": ISO 8601 once the space is a T.
  const ts = Date.parse((values.timestamp ?? "").replace(" ", "T"));
  if (Number.isNaN(ts)) throw new Error(`${where}: timestamp "${values.timestamp}" is not a date`);
  const item = number("item_id");
  if (!Number.isInteger(item) || item < 0 || item >= itemCount)
    throw new Error(`${where}: item_id ${item} is not one of the ${itemCount} items`);
  const position = number("position");
  if (!Number.isInteger(position) || position < 1)
    throw new Error(`${where}: position ${position} is not a slot number`);
  const userFeatures = Array.from({ length: USER_FEATURE_COUNT }, (_, k) => {
    const value = values[`user_feature_${k}`];
    if (value === undefined) throw new Error(`${where}: column user_feature_${k} is missing`);
    return value;
  });
  return {
    index: values[""] ?? String(line),
    ts,
    item,
    position,
    click: number("click") === 1,
    propensity: number("propensity_score"),
    userFeatures,
    affinities: Array.from({ length: itemCount }, (_, i) => number(`user-item_affinity_${i}`)),
  };
}

/** One impression as log messages: its decision, and its click outcome when it was clicked. */
const catalogueHashes = new Map<number, string>();
/** Hashing the catalogue once per item count, not once per row. */
function obdCatalogueHash(itemCount: number): string {
  let hash = catalogueHashes.get(itemCount);
  if (hash === undefined) catalogueHashes.set(itemCount, (hash = catalogueHash(obdCatalogue(itemCount))));
  return hash;
}

export function impressionMessages(impression: ObdImpression, origin: ObdOrigin, encoder: Encoder): LogMessage[] {
  const context = {
    position: impression.position,
    userFeatures: impression.userFeatures,
    affinities: impression.affinities,
  };
  const encoded = encoder.encode(context);
  if ("error" in encoded) throw new Error(`OBD row ${impression.index} cannot be encoded: ${encoded.error}`);
  const id = `obd-${origin.policy}-${origin.campaign}-${impression.index}`;
  const decision = toDecisionRow({
    id,
    ts: impression.ts,
    // OBD has no user id, and equal user features are not the same person: each impression is its
    // own one-step trajectory (the row index makes the hash unique). Every step is therefore
    // terminal and γ plays no role, which is right for this data: a contextual bandit log.
    visitorHash: `obd-${fingerprint(`${impression.userFeatures.join(",")}#${impression.index}`)}`,
    policyVersion: `obd-${origin.policy}`,
    featureSpecHash: encoder.hash,
    catalogueHash: obdCatalogueHash(encoder.actions.length),
    context,
    features: encoded.features,
    stateKey: encoded.stateKey,
    // The logging policies chose among all items on every impression.
    eligible: encoder.actions,
    action: encoder.actions[impression.item]!,
    propensity: impression.propensity,
    // Every choice of the uniform-random policy is exploration; Thompson sampling's are not flagged.
    explored: origin.policy === "random",
    experiment: null,
    shadow: null,
  });
  const messages: LogMessage[] = [{ type: "decision", row: decision }];
  if (impression.click)
    messages.push({
      type: "outcome",
      row: { decisionId: id, ts: impression.ts, kind: "click", value: 0, eventKey: "" },
    });
  return messages;
}
