ALTER TABLE `decisions` ADD `experiment_id` text;--> statement-breakpoint
ALTER TABLE `decisions` ADD `arm` text;--> statement-breakpoint
CREATE INDEX `decisions_experiment` ON `decisions` (`experiment_id`,`arm`);