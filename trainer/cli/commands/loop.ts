import { readFile } from "node:fs/promises";
import { ExperimentRegistry } from "../../../shared/experiment-registry.ts";
import { storeAndStartCanary } from "../../experiment/canary.ts";
import { openPolicyKv, type KvTarget } from "../../publish/open-kv.ts";
import type { SourceSpec } from "../../sources/index.ts";
import { defineCommand, shareOption, type CommandIo, type CommandResult } from "../command.ts";
import { parseSourceOption } from "../load-dataset.ts";
import { parseTargetOption, TARGET_OPTIONS, TARGET_USAGE } from "../target-option.ts";
import { judgeFromLogs } from "./experiment.ts";
import { trainCommand } from "./train.ts";

/** Held while a loop runs, so that an overlapping cron run steps aside. */
export const LOOP_LOCK_KEY = "loop:lock";
/** A lock older than this is a crashed run's: taken over. */
const STALE_LOCK_MS = 6 * 3_600_000;

interface LoopOptions {
  target: KvTarget;
  source: SourceSpec;
  share: number;
  autoPromote: boolean;
  train: (io: CommandIo) => Promise<CommandResult>;
}

interface TrainAnswer {
  version: string;
  out: string;
  gate: { allowed: boolean; reason: string };
}

/**
 * The deployment loop in one idempotent step, for cron on the training box:
 * - an experiment is running: judge it from the logs by the monitor's rule; roll a loser back,
 *   promote a confident winner that serves a policy, or leave it running;
 * - none is running: train on the logs, and start a canary of the candidate if the gate lets it
 *   through; otherwise nothing changes.
 * Every call does at most one of these, so running it every hour walks the loop forward.
 */
async function loopOnce(
  o: LoopOptions,
  io: CommandIo,
  kv: Awaited<ReturnType<typeof openPolicyKv>>,
): Promise<CommandResult> {
  const experiments = new ExperimentRegistry(kv.kv);
  const running = await experiments.current();
  if (running !== null) {
    const { verdict } = (await judgeFromLogs(running, o.source, io)).report;
    const now = new Date();
    if (verdict.action === "rollback") {
      await experiments.end("rolled_back", "loop", verdict.reason, now);
      return {
        summary: `rolled back ${running.id}: ${verdict.reason}`,
        json: { step: "rolled_back", experiment: running.id, verdict },
      };
    }
    const winner = verdict.action === "winner" || verdict.action === "promote" ? verdict.arm : null;
    if (winner !== null && running.arms.find((a) => a.name === winner)?.serves.type === "policy") {
      await experiments.promote(winner, "loop", verdict.reason, now);
      return {
        summary: `promoted ${winner} of ${running.id}: ${verdict.reason}`,
        json: { step: "promoted", experiment: running.id, verdict },
      };
    }
    return {
      summary: `${running.id} runs on: ${verdict.reason}`,
      json: { step: "monitored", experiment: running.id, verdict },
    };
  }

  const trained = (await o.train(io)).json as TrainAnswer;
  if (!trained.gate.allowed) {
    return {
      summary: `trained ${trained.version}; the gate refused it (${trained.gate.reason}): nothing started`,
      json: { step: "refused", version: trained.version, reason: trained.gate.reason },
    };
  }
  const bytes = new Uint8Array(await readFile(trained.out));
  const { experiment } = await storeAndStartCanary(kv.kv, bytes, {
    share: o.share,
    autoPromote: o.autoPromote,
    now: new Date(),
  });
  return {
    summary: `trained ${trained.version}; the gate let it through (${trained.gate.reason}); started ${experiment.id} on ${(o.share * 100).toFixed(0)}% of visitors`,
    json: { step: "canary_started", version: trained.version, experiment },
  };
}

export const loopCommand = defineCommand<LoopOptions>({
  name: "loop",
  summary: "one idempotent step of train → gate → canary → monitor → promote or roll back; run it from cron",
  usage: `usage: promo loop [--source local|remote|file:<path>] [--target local|remote] [--canary 10%] [--auto-promote] [train options]

  Each call does one step: with an experiment running, it judges it from the logs (the monitor's
  rule) and rolls back a loser or promotes a confident winner; with none, it trains (every
  \`promo train\` option applies) and starts a canary of a candidate the gate lets through.
  An overlapping run steps aside (a lock in KV; one older than 6 hours is taken over).
  --canary S      the candidate's share of visitors; default 10%
  --auto-promote  also let the Worker's monitor promote between loop runs
${TARGET_USAGE}`,
  options: {
    ...trainCommand.options,
    ...TARGET_OPTIONS,
    canary: { type: "string" },
    "auto-promote": { type: "boolean", default: false },
  },
  parse({ values }) {
    const { canary, target: _target, "auto-promote": autoPromote, ...trainValues } = values;
    return {
      target: parseTargetOption(values),
      source: parseSourceOption(values),
      share: shareOption({ canary }, "canary") ?? 0.1,
      autoPromote: autoPromote === true,
      // Parsed now, run later: a bad training flag fails before any I/O.
      train: trainCommand.prepare({ values: trainValues, positionals: [] }),
    };
  },
  async run(o, io) {
    const kv = await openPolicyKv(o.target);
    try {
      const held = await kv.kv.get(LOOP_LOCK_KEY, "text");
      const since = held === null ? Number.NaN : Date.parse(held);
      if (Date.now() - since < STALE_LOCK_MS) {
        return {
          summary: `another promo loop has run since ${held}; stepping aside`,
          json: { step: "skipped", lockedSince: held },
        };
      }
      await kv.kv.put(LOOP_LOCK_KEY, new Date().toISOString());
      try {
        return await loopOnce(o, io, kv);
      } finally {
        await kv.kv.delete(LOOP_LOCK_KEY);
      }
    } finally {
      await kv.close();
    }
  },
});
