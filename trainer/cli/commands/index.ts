import type { Command } from "../command.ts";
import { catalogueCommand } from "./catalogue.ts";
import { evaluateCommand } from "./evaluate.ts";
import { experimentCommand, reportCommand } from "./experiment.ts";
import { exportCommand } from "./export.ts";
import { importCommand } from "./import.ts";
import { loopCommand } from "./loop.ts";
import { policiesCommand } from "./policies.ts";
import { publishCommand } from "./publish.ts";
import { rollbackCommand } from "./rollback.ts";
import { simulateCommand } from "./simulate.ts";
import { trainCommand } from "./train.ts";

export const COMMANDS: readonly Command[] = [
  trainCommand,
  evaluateCommand,
  publishCommand,
  rollbackCommand,
  catalogueCommand,
  experimentCommand,
  reportCommand,
  loopCommand,
  policiesCommand,
  simulateCommand,
  importCommand,
  exportCommand,
];
