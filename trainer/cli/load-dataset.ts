import { readFile } from "node:fs/promises";
import type { Catalogue, ControlPolicy } from "../../shared/catalogue.ts";
import {
  DEFAULT_CATALOGUE_DOCUMENT,
  parseCatalogueDocument,
  type CatalogueDocument,
} from "../../shared/catalogue-document.ts";
import {
  buildDataset,
  buildDatasetFromTrajectories,
  DEFAULT_ATTRIBUTION_WINDOW_MS,
  DEFAULT_HORIZON_MS,
  type BuildDatasetOptions,
} from "../data/build-dataset.ts";
import type { Dataset } from "../data/dataset.ts";
import { setupFromMeta, type LogSetup } from "../data/log-meta.ts";
import { withProgress, type ProgressSink } from "../runtime/progress.ts";
import { openLogSource, parseSourceSpec, type SourceSpec } from "../sources/index.ts";
import type { LogSource } from "../sources/log-source.ts";
import { readAllLogs } from "../sources/read-all.ts";
import { durationOption, stringOption, stringsOption, type CommandIo, type OptionValues } from "./command.ts";
import { unionOfCatalogues } from "../data/catalogue-union.ts";

export const DATASET_OPTIONS = {
  source: { type: "string" },
  catalogue: { type: "string", multiple: true },
  "persist-to": { type: "string" },
  window: { type: "string" },
  horizon: { type: "string" },
} as const;

export const DATASET_USAGE = `  --source S      local | remote | archive | archive:r2 | file:<path.jsonl>; default local
                  archive: the Parquet log archive in the local R2 (read by DuckDB); archive:r2 the
                  same in a real bucket (R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, CLOUDFLARE_ACCOUNT_ID)
                  remote needs CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_D1_DATABASE_ID, CLOUDFLARE_API_TOKEN
  --persist-to D  local state directory, as wrangler's --persist-to; default .wrangler/state
  --catalogue F   the operator's catalogue the logs were decided under (the file given to promo
                  catalogue publish): its promotions and profile fields; default the built-in one.
                  Repeat it for logs that span catalogue changes, the current one first: the
                  actions are the union of their promotions (a features policy serves any of them)
  --window W      attribution window for outcomes (7d, 12h, 30m); default 7d
  --horizon H     how far ahead a visitor's next decision is its next state; default 7d`;

/** The dataset flags, checked. */
export interface DatasetOptions {
  source: SourceSpec;
  /** The catalogue files, read and checked before the logs are; none: the built-in catalogue. */
  catalogueFiles: readonly string[];
  attributionWindowMs: number;
  horizonMs: number;
}

/** `--source`, with `--persist-to` for a local one, checked. */
export function parseSourceOption(values: OptionValues): SourceSpec {
  const persistTo = stringOption(values, "persist-to");
  return parseSourceSpec(stringOption(values, "source") ?? "local", persistTo === undefined ? {} : { persistTo });
}

export function parseDatasetOptions(values: OptionValues): DatasetOptions {
  return {
    source: parseSourceOption(values),
    catalogueFiles: stringsOption(values, "catalogue"),
    attributionWindowMs: durationOption(values, "window", DEFAULT_ATTRIBUTION_WINDOW_MS),
    horizonMs: durationOption(values, "horizon", DEFAULT_HORIZON_MS),
  };
}

export interface LoadedDataset {
  dataset: Dataset;
  catalogue: Catalogue;
  /** The control of these logs: what the fallback served, the baseline a candidate must beat. */
  control: ControlPolicy;
  description: string;
  /** Every row that did not become a step, by reason, unreadable lines included. */
  unused: Record<string, number>;
}

/** Reads a source whole and turns it into training steps, reporting what could not be used. */
export async function loadDataset(options: DatasetOptions, { log, quiet }: CommandIo): Promise<LoadedDataset> {
  const document =
    options.catalogueFiles.length === 0
      ? DEFAULT_CATALOGUE_DOCUMENT
      : unionOfCatalogues(
          await Promise.all(options.catalogueFiles.map(async (f) => parseCatalogueDocument(await readFile(f, "utf8")))),
        );
  const source = await openLogSource(options.source, {
    onRetry: ({ delayMs, reason }) => log(`retrying in ${(delayMs / 1000).toFixed(1)} s: ${reason}`),
  });
  try {
    const { dataset, setup } = await datasetOf(
      source,
      document,
      { now: Date.now(), attributionWindowMs: options.attributionWindowMs, horizonMs: options.horizonMs },
      { log, quiet },
    );
    const unused: Record<string, number> = { ...dataset.skipped };
    for (const [reason, { count }] of Object.entries(source.rejected())) unused[`line:${reason}`] = count;
    if (dataset.heldBack > 0)
      log(
        `${dataset.heldBack} decisions are younger than the attribution window: held back, not counted as zero reward`,
      );
    for (const [reason, count] of Object.entries(unused)) log(`unused: ${count} × ${reason}`);
    log(
      `${dataset.steps.length} decisions from ${source.description} → ${dataset.steps.filter((s) => s.next >= 0).length} non-terminal transitions`,
    );
    return { dataset, catalogue: setup.catalogue, control: setup.control, description: source.description, unused };
  } finally {
    await source.close();
  }
}

/**
 * The dataset of a source: built from its trajectories where it sorts and joins them itself (the
 * archive, in bounded memory), else from all its rows read into memory.
 */
async function datasetOf(
  source: LogSource,
  document: CatalogueDocument,
  build: Pick<BuildDatasetOptions, "now" | "attributionWindowMs" | "horizonMs">,
  progress: ProgressSink,
): Promise<{ dataset: Dataset; setup: LogSetup }> {
  if (source.trajectories) {
    const setup = setupFromMeta(await source.meta(), document);
    const trajectories = source.trajectories();
    const chunks = withProgress(trajectories.chunks, { ...progress, label: "reading trajectories" });
    const dataset = await buildDatasetFromTrajectories({ ...trajectories, chunks }, { ...setup, ...build });
    return { dataset, setup };
  }
  const logs = await readAllLogs(source, progress);
  const setup = setupFromMeta(logs.meta, document);
  return { dataset: buildDataset(logs.decisions, logs.outcomes, { ...setup, ...build }), setup };
}
