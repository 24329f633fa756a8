import { readFile } from "node:fs/promises";
import {
  CATALOGUE_KEY,
  catalogueHash,
  DEFAULT_CATALOGUE_DOCUMENT,
  parseCatalogueDocument,
  type CatalogueDocument,
} from "../../../shared/catalogue-document.ts";
import { openPolicyKv } from "../../publish/open-kv.ts";
import { defineCommand, UsageError } from "../command.ts";
import { parseTargetOption, TARGET_OPTIONS, TARGET_USAGE } from "../target-option.ts";

const ACTIONS = ["publish", "show", "reset"] as const;
type Action = (typeof ACTIONS)[number];

function describe(document: CatalogueDocument): { hash: string; promotions: string[] } {
  return { hash: catalogueHash(document.promotions), promotions: document.promotions.map((p) => p.id) };
}

export const catalogueCommand = defineCommand({
  name: "catalogue",
  summary: "publish, show or reset the catalogue the edge serves (promotions, their attributes and rules)",
  usage: `usage: promo catalogue publish <catalogue.json> | show | reset [--target local|remote]

  publish F       check F (the format of docs/catalogue.example.json) and write it to KV; the edge
                  takes it within POLICY_REFRESH_SECONDS. A features policy serves it as it is;
                  a per-action (qtable, dqn) policy over other promotions gives way to the control
  show            the catalogue KV holds (or the built-in one), with its hash
  reset           delete it from KV: the edge goes back to the built-in catalogue
${TARGET_USAGE}`,
  options: { ...TARGET_OPTIONS },
  parse({ values, positionals }) {
    const [action, file] = positionals;
    if (!ACTIONS.includes(action as Action)) throw new UsageError(`say publish, show or reset; got "${action ?? ""}"`);
    if (action === "publish" && !file) throw new UsageError("give the catalogue file to publish");
    return { action: action as Action, file, target: parseTargetOption(values) };
  },
  async run({ action, file, target }) {
    // Checked before KV is opened: a catalogue the edge would refuse is never written.
    const document = action === "publish" ? parseCatalogueDocument(await readFile(file!, "utf8")) : null;
    const store = await openPolicyKv(target);
    try {
      if (document) {
        await store.kv.put(CATALOGUE_KEY, JSON.stringify(document));
        const written = describe(document);
        return {
          summary: `published catalogue ${written.hash} (${written.promotions.join(", ")}) to ${store.where}`,
          json: { published: true, ...written },
        };
      }
      if (action === "reset") {
        await store.kv.delete(CATALOGUE_KEY);
        return {
          summary: `deleted ${CATALOGUE_KEY} from ${store.where}: the edge serves the built-in catalogue`,
          json: { reset: true, ...describe(DEFAULT_CATALOGUE_DOCUMENT) },
        };
      }
      const text = await store.kv.get(CATALOGUE_KEY, "text");
      const current = text === null ? DEFAULT_CATALOGUE_DOCUMENT : parseCatalogueDocument(text);
      const shown = describe(current);
      const source = text === null ? "built-in" : "kv";
      return {
        summary: `${source} catalogue ${shown.hash}: ${shown.promotions.join(", ")}`,
        json: { source, ...shown, document: current },
      };
    } finally {
      await store.close();
    }
  },
});
