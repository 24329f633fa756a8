import { ExperimentRegistry } from "../../../shared/experiment-registry.ts";
import {
  judgeExperiment,
  monitorRuleOf,
  visitorTotalsByArm,
  type ExperimentReport,
} from "../../../shared/experiment-verdict.ts";
import type { Experiment } from "../../../shared/experiment.ts";
import { PolicyRegistry } from "../../../shared/policy-registry.ts";
import { DEFAULT_REWARD_SPEC } from "../../../shared/reward.ts";
import { startCanary } from "../../experiment/canary.ts";
import { experimentReportHtml, formatExperimentReport } from "../../experiment/format-report.ts";
import { experimentRows } from "../../experiment/rows.ts";
import { shadowEstimate, type ShadowEstimate } from "../../experiment/shadow-estimate.ts";
import { openPolicyKv, type KvTarget } from "../../publish/open-kv.ts";
import { openLogSource, type SourceSpec } from "../../sources/index.ts";
import { readAllLogs } from "../../sources/read-all.ts";
import { DEFAULT_CATALOGUE } from "../../../shared/catalogue.ts";
import { writeFile } from "node:fs/promises";
import {
  defineCommand,
  shareOption,
  stringOption,
  UsageError,
  type CommandIo,
  type CommandResult,
} from "../command.ts";
import { DATASET_OPTIONS, parseSourceOption } from "../load-dataset.ts";
import { parseTargetOption, TARGET_OPTIONS, TARGET_USAGE } from "../target-option.ts";

const ACTIONS = ["start", "status", "stop", "promote", "report"] as const;
type Action = (typeof ACTIONS)[number];

type ExperimentOptions =
  | {
      action: "start";
      target: KvTarget;
      candidate: string | undefined;
      shadow: string | undefined;
      share: number;
      id: string | undefined;
      autoPromote: boolean;
    }
  | { action: "status"; target: KvTarget }
  | { action: "stop"; target: KvTarget; reason: string }
  | { action: "promote"; target: KvTarget; arm: string }
  | { action: "report"; target: KvTarget; source: SourceSpec; html: string | undefined };

/**
 * The figures of the running experiment (or of the one that ended last) from the logs, judged by
 * the same rule as the monitor. `promo experiment report`, and `promo report experiment`.
 */
export async function reportExperiment(
  target: KvTarget,
  source: SourceSpec,
  html: string | undefined,
  io: CommandIo,
): Promise<CommandResult> {
  const store = await openPolicyKv(target);
  let experiment: Experiment;
  try {
    const registry = new ExperimentRegistry(store.kv);
    const found = (await registry.current()) ?? (await registry.last())?.experiment ?? null;
    if (found === null) throw new UsageError(`no experiment is running or has ended in ${store.where}`);
    experiment = found;
  } finally {
    await store.close();
  }
  const { report, shadow } = await judgeFromLogs(experiment, source, io);
  if (html !== undefined) await writeFile(html, experimentReportHtml(report, new Date()));
  const shadowLine = shadow
    ? `\nshadow ${shadow.version} on ${shadow.decisions} decisions of ${shadow.visitors} visitors: ` +
      `${shadow.shadowPerDecision.mean.toFixed(4)} [${shadow.shadowPerDecision.lo.toFixed(4)}, ${shadow.shadowPerDecision.hi.toFixed(4)}] ` +
      `per decision (SNIPS, ESS ${shadow.ess.toFixed(0)}) against ${shadow.servedPerDecision.toFixed(4)} served; ` +
      `it gave the served promotion ${(shadow.agreement.probability * 100).toFixed(1)}% on average, and ranked it first ${(shadow.agreement.top * 100).toFixed(1)}% of the time`
    : "";
  return {
    summary: formatExperimentReport(report) + shadowLine + (html ? `\nHTML report: ${html}` : ""),
    json: { experiment, report, shadow },
  };
}

/** `experiment` judged by the monitor's rule on the logs of `source`, with its shadow's estimate if it runs one. */
export async function judgeFromLogs(
  experiment: Experiment,
  source: SourceSpec,
  { log, quiet }: CommandIo,
): Promise<{ report: ExperimentReport; shadow: ShadowEstimate | null }> {
  const logs = await openLogSource(source, {});
  try {
    const { decisions, outcomes } = await readAllLogs(logs, { quiet, log });
    const rows = experimentRows(experiment, decisions, outcomes);
    return {
      report: judgeExperiment(
        experiment,
        visitorTotalsByArm(rows, DEFAULT_CATALOGUE, DEFAULT_REWARD_SPEC),
        monitorRuleOf(experiment),
      ),
      shadow: shadowEstimate(experiment, decisions, outcomes, DEFAULT_CATALOGUE, DEFAULT_REWARD_SPEC),
    };
  } finally {
    await logs.close();
  }
}

export const experimentCommand = defineCommand<ExperimentOptions>({
  name: "experiment",
  summary: "start, watch, stop or promote a live experiment (a canary of a policy version against today's)",
  usage: `usage: promo experiment start [--candidate <version>] [--shadow <version>] [--canary 10%] [--id <id>] [--auto-promote]
       promo experiment status
       promo experiment stop [--reason <text>]
       promo experiment promote [--arm candidate]
       promo experiment report [--source ...] [--html report.html]

  --candidate V   a stored policy version (promo publish --canary stores and starts in one step)
  --shadow V      a stored version asked at every decision and never served: its value on live
                  traffic is estimated off-policy by report
  --canary S      the candidate's share of visitors; default 10%
  --id ID         the experiment's id; default canary-<version>
  --auto-promote  let the monitor move a confident winner to 100%
  --reason R      why the operator stops it (recorded)
  --arm A         the arm to promote; default candidate
  --html F        also write the report as a self-contained HTML page
${TARGET_USAGE}
  --source S      for report: local | remote | file:<path.jsonl>; default local`,
  options: {
    ...TARGET_OPTIONS,
    ...DATASET_OPTIONS,
    candidate: { type: "string" },
    shadow: { type: "string" },
    canary: { type: "string" },
    id: { type: "string" },
    "auto-promote": { type: "boolean", default: false },
    reason: { type: "string" },
    arm: { type: "string" },
    html: { type: "string" },
  },
  parse({ values, positionals }) {
    const [action] = positionals;
    if (!ACTIONS.includes(action as Action)) throw new UsageError(`say what to do: ${ACTIONS.join(", ")}`);
    const target = parseTargetOption(values);
    switch (action as Action) {
      case "start": {
        const candidate = stringOption(values, "candidate");
        const shadow = stringOption(values, "shadow");
        if (candidate === undefined && shadow === undefined) {
          throw new UsageError("give --candidate <version> (a canary), --shadow <version>, or both");
        }
        return {
          action: "start",
          target,
          candidate,
          shadow,
          share: shareOption(values, "canary") ?? 0.1,
          id: stringOption(values, "id"),
          autoPromote: values["auto-promote"] === true,
        };
      }
      case "status":
        return { action: "status", target };
      case "stop":
        return { action: "stop", target, reason: stringOption(values, "reason") ?? "stopped by the operator" };
      case "promote":
        return { action: "promote", target, arm: stringOption(values, "arm") ?? "candidate" };
      case "report":
        return { action: "report", target, source: parseSourceOption(values), html: stringOption(values, "html") };
    }
  },
  async run(options, io) {
    if (options.action === "report") return reportExperiment(options.target, options.source, options.html, io);
    const store = await openPolicyKv(options.target);
    try {
      const experiments = new ExperimentRegistry(store.kv);
      const now = new Date();
      switch (options.action) {
        case "start": {
          const listings = await new PolicyRegistry(store.kv).list();
          const pointer = (version: string | undefined) => {
            if (version === undefined) return null;
            const listing = listings.find((l) => l.version === version);
            if (!listing) throw new UsageError(`no policy version ${version} in ${store.where}`);
            return { version: listing.version, sha256: listing.sha256 };
          };
          const experiment = await startCanary(store.kv, {
            candidate: pointer(options.candidate),
            shadow: pointer(options.shadow),
            share: options.share,
            ...(options.id ? { id: options.id } : {}),
            autoPromote: options.autoPromote,
            now,
          });
          return {
            summary:
              `started ${experiment.id} in ${store.where}: ${experiment.arms.map((a) => `${a.name} ${(a.weight * 100).toFixed(0)}%`).join(", ")}` +
              (experiment.shadow ? `; ${experiment.shadow.version} in shadow` : ""),
            json: { started: experiment },
          };
        }
        case "status": {
          const [current, look, last] = await Promise.all([
            experiments.current(),
            experiments.look(),
            experiments.last(),
          ]);
          const lines = [
            current
              ? `running: ${current.id} since ${current.startedAt}: ${current.arms.map((a) => `${a.name} (${a.serves.type === "policy" ? a.serves.version : a.serves.type === "promotion" ? a.serves.id : "control"}) weight ${a.weight}`).join(", ")}`
              : "no experiment running",
            look
              ? `monitor's last look (${look.at}, ${look.experimentId}): ${look.action}: ${look.reason}`
              : "the monitor has not looked yet",
            last
              ? `last ended: ${last.experiment.id} ${last.outcome} by the ${last.by} at ${last.endedAt}: ${last.reason}`
              : "no experiment has ended",
          ];
          return { summary: lines.join("\n"), json: { running: current, monitorLook: look, lastEnded: last } };
        }
        case "stop": {
          const ended = await experiments.end("stopped", "operator", options.reason, now);
          return { summary: `stopped ${ended.experiment.id}: ${ended.reason}`, json: { ended } };
        }
        case "promote": {
          const ended = await experiments.promote(
            options.arm,
            "operator",
            `promoted ${options.arm} by the operator`,
            now,
          );
          return {
            summary: `promoted ${options.arm} of ${ended.experiment.id}; the policy pointer now serves it`,
            json: { ended },
          };
        }
      }
    } finally {
      await store.close();
    }
  },
});

export const reportCommand = defineCommand<{ target: KvTarget; source: SourceSpec; html: string | undefined }>({
  name: "report",
  summary: "report on the running (or last) experiment: per-arm figures, intervals, the monitor's verdict",
  usage: `usage: promo report experiment [--source ...] [--html report.html] [--target local|remote]

  --html F        also write a self-contained HTML page
${TARGET_USAGE}
  --source S      local | remote | file:<path.jsonl>; default local`,
  options: { ...TARGET_OPTIONS, ...DATASET_OPTIONS, html: { type: "string" } },
  parse({ values, positionals }) {
    if (positionals[0] !== "experiment") throw new UsageError("what to report on: promo report experiment");
    return { target: parseTargetOption(values), source: parseSourceOption(values), html: stringOption(values, "html") };
  },
  run: ({ target, source, html }, io) => reportExperiment(target, source, html, io),
});
