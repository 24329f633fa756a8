import type { Command } from "./command.ts";
import { evaluateCommand } from "./commands/evaluate.ts";
import { exportCommand } from "./commands/export.ts";
import { importCommand } from "./commands/import.ts";
import { policiesCommand } from "./commands/policies.ts";
import { publishCommand } from "./commands/publish.ts";
import { rollbackCommand } from "./commands/rollback.ts";
import { simulateCommand } from "./commands/simulate.ts";
import { trainCommand } from "./commands/train.ts";

export const COMMANDS: readonly Command[] = [trainCommand, evaluateCommand, publishCommand, rollbackCommand, policiesCommand, simulateCommand, importCommand, exportCommand];
