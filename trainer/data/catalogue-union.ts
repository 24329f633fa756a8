import { canonicalJson } from "../../shared/hash.ts";
import type { CatalogueDocument } from "../../shared/catalogue-document.ts";

/**
 * The catalogues a shop served over the logs' span, as one: the first document's promotions in its
 * order, then every other promotion in the order the later documents list it. A promotion listed by
 * several keeps the first document's definition (list the current catalogue first). The profile
 * fields must be the same in all: they decide the feature spec, and one run learns over one spec.
 */
export function unionOfCatalogues(documents: readonly CatalogueDocument[]): CatalogueDocument {
  const [first, ...rest] = documents;
  if (!first) throw new RangeError("no catalogue to take the union of");
  const promotions = [...first.promotions];
  for (const [i, document] of rest.entries()) {
    if (canonicalJson(document.profile) !== canonicalJson(first.profile)) {
      throw new RangeError(
        `catalogue ${i + 2} declares other profile fields than the first: one run reads one feature spec`,
      );
    }
    for (const promotion of document.promotions) {
      if (!promotions.some((p) => p.id === promotion.id)) promotions.push(promotion);
    }
  }
  return { ...first, promotions };
}
