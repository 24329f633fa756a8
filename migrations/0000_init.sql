CREATE TABLE `decisions` (
	`id` text PRIMARY KEY NOT NULL,
	`ts` integer NOT NULL,
	`visitor_hash` text NOT NULL,
	`policy_version` text NOT NULL,
	`feature_spec_hash` text NOT NULL,
	`context` text NOT NULL,
	`features` text NOT NULL,
	`state_key` integer NOT NULL,
	`eligible` text NOT NULL,
	`action` text NOT NULL,
	`propensity` real NOT NULL,
	`explored` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `decisions_visitor_ts` ON `decisions` (`visitor_hash`,`ts`);--> statement-breakpoint
CREATE INDEX `decisions_ts` ON `decisions` (`ts`);--> statement-breakpoint
CREATE TABLE `outcomes` (
	`decision_id` text NOT NULL,
	`ts` integer NOT NULL,
	`kind` text NOT NULL,
	`value` real NOT NULL,
	`event_key` text NOT NULL,
	PRIMARY KEY(`decision_id`, `kind`, `event_key`)
);
--> statement-breakpoint
CREATE INDEX `outcomes_ts` ON `outcomes` (`ts`);