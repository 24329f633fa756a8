import { readFile } from "node:fs/promises";
import { decodePolicy } from "../../../shared/policy/format.ts";
import { DEFAULT_INTERVAL_METHOD, evaluatePolicies, gateEstimates } from "../../ope/index.ts";
import { policyAsTarget, uniformTarget } from "../../ope/target-policy.ts";
import { defineCommand, numberOption, stringOption, UsageError } from "../command.ts";
import { AGAINST_USAGE, checkComparable, loadCurrentPolicy, parseAgainst } from "../current-policy.ts";
import { formatComparison } from "../format-comparison.ts";
import { DATASET_OPTIONS, DATASET_USAGE, loadDataset, parseDatasetOptions } from "../load-dataset.ts";

export const evaluateCommand = defineCommand({
  name: "evaluate",
  summary:
    "estimate a policy's value offline on logged decisions, against the current policy, uniform and the best single promotion",
  usage: `usage: promo evaluate <policy.bin> [--source local|remote|file:<path>] [options]

${DATASET_USAGE}
${AGAINST_USAGE}
  --gamma G       discount for the long-term (per-decision WIS) estimate; default 0.9
  --level L       confidence level; default 0.95
  --bootstrap B   bootstrap replicates; default ${DEFAULT_INTERVAL_METHOD.replicates}
  --seed N        bootstrap seed; default 1`,
  options: {
    ...DATASET_OPTIONS,
    against: { type: "string" },
    gamma: { type: "string" },
    level: { type: "string" },
    bootstrap: { type: "string" },
    seed: { type: "string" },
  },
  parse({ values, positionals }) {
    const [file] = positionals;
    if (!file) throw new UsageError("give the policy file to evaluate");
    const data = parseDatasetOptions(values);
    return {
      file,
      data,
      against: parseAgainst(stringOption(values, "against"), data.source.kind, stringOption(values, "persist-to")),
      gamma: numberOption(values, "gamma", 0.9, (g) => g >= 0 && g < 1),
      level: numberOption(values, "level", 0.95, (l) => l > 0 && l < 1),
      seed: numberOption(values, "seed", 1, Number.isInteger),
      replicates: numberOption(values, "bootstrap", DEFAULT_INTERVAL_METHOD.replicates, (b) => b >= 100),
    };
  },
  async run(o, io) {
    const candidate = decodePolicy(new Uint8Array(await readFile(o.file)));
    const { dataset } = await loadDataset(o.data, io);
    checkComparable(candidate, dataset.featureSpecHash, dataset.actions);
    const current = await loadCurrentPolicy(o.against);
    checkComparable(current, dataset.featureSpecHash, dataset.actions);
    const comparison = evaluatePolicies(dataset, {
      candidate: policyAsTarget(candidate),
      current: current ? policyAsTarget(current) : { ...uniformTarget(), name: "fallback (uniform)" },
      gamma: o.gamma,
      level: o.level,
      seed: o.seed,
      interval: { method: "bootstrap", replicates: o.replicates },
    });
    if (!io.quiet) process.stderr.write(`${formatComparison(comparison)}\n`);
    const gate = gateEstimates(comparison);
    return {
      summary:
        `${candidate.meta.version}: ${gate.candidate.estimator} ${gate.candidate.value.toFixed(4)} ` +
        `[${gate.candidate.lower.toFixed(4)}, ${gate.candidate.upper.toFixed(4)}] vs ${current?.meta.version ?? "fallback"} ` +
        `${gate.current.value.toFixed(4)} on ${comparison.decisions} decisions`,
      json: { version: candidate.meta.version, current: current?.meta.version ?? "fallback", comparison },
    };
  },
});
