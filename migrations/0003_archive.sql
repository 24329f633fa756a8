ALTER TABLE `decisions` ADD `archived` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `decisions_archived_ts` ON `decisions` (`archived`,`ts`);--> statement-breakpoint
ALTER TABLE `outcomes` ADD `archived` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `outcomes_archived_ts` ON `outcomes` (`archived`,`ts`);