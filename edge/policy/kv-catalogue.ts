import {
  CATALOGUE_KEY,
  catalogueHash,
  CatalogueError,
  parseCatalogueDocument,
  type CatalogueDocument,
} from "../../shared/catalogue-document.ts";
import { THROTTLES_KEY, throttlesSchema, type Throttles } from "../../shared/budget.ts";
import {
  compileFeatureSpec,
  withProfileFields,
  type CompiledFeatureSpec,
  type FeatureSpec,
} from "../../shared/features.ts";

/**
 * The budget throttles KV holds now (an absent key: none). A malformed value keeps `served` and
 * says why; a failed read throws.
 */
export async function readThrottles(
  kv: KVNamespace,
  served: Throttles,
): Promise<{ throttles: Throttles; problem: string | null }> {
  const text = await kv.get(THROTTLES_KEY, "text");
  if (text === null) return { throttles: {}, problem: null };
  try {
    return { throttles: throttlesSchema.parse(JSON.parse(text)), problem: null };
  } catch (error) {
    return { throttles: served, problem: `${THROTTLES_KEY} is malformed: ${(error as Error).message}` };
  }
}

/** The catalogue the edge decides under: the operator's from KV, or the built-in one when KV has none. */
export interface ServedCatalogue {
  document: CatalogueDocument;
  /** Logged with every decision (catalogueHash). */
  hash: string;
  actionIds: readonly string[];
  /** The edge's feature spec with the document's profile fields. */
  spec: CompiledFeatureSpec;
  source: "kv" | "built-in";
  /** The KV text it came from: unchanged text is not parsed again. */
  text: string | null;
}

export function servedCatalogue(document: CatalogueDocument, text: string | null, base: FeatureSpec): ServedCatalogue {
  return {
    document,
    hash: catalogueHash(document.promotions),
    actionIds: document.promotions.map((p) => p.id),
    spec: compileFeatureSpec(withProfileFields(base, document.profile)),
    source: text === null ? "built-in" : "kv",
    text,
  };
}

/**
 * The catalogue KV holds now. An unchanged text returns `served` itself (the caller compares by
 * identity); a malformed one keeps `served` and says why; a deleted key returns to `builtIn`.
 * A failed KV read throws, like the policy pointer's.
 */
export async function readCatalogue(
  kv: KVNamespace,
  served: ServedCatalogue,
  builtIn: ServedCatalogue,
): Promise<{ catalogue: ServedCatalogue; problem: string | null }> {
  const text = await kv.get(CATALOGUE_KEY, "text");
  if (text === served.text) return { catalogue: served, problem: null };
  if (text === null) return { catalogue: builtIn, problem: null };
  try {
    return { catalogue: servedCatalogue(parseCatalogueDocument(text), text, builtIn.spec.spec), problem: null };
  } catch (error) {
    if (error instanceof CatalogueError) return { catalogue: served, problem: error.message };
    throw error;
  }
}
