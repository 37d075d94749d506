ALTER TABLE "police_outcomes" ALTER COLUMN "force" SET DEFAULT nullif(current_setting('pp.import_force', true), '');--> statement-breakpoint
ALTER TABLE "police_street_crimes" ALTER COLUMN "force" SET DEFAULT nullif(current_setting('pp.import_force', true), '');--> statement-breakpoint
ALTER TABLE "police_uk_imports" ADD COLUMN "runner" bigint;--> statement-breakpoint
ALTER TABLE "police_outcomes" DROP COLUMN "id";--> statement-breakpoint
ALTER TABLE "police_street_crimes" DROP COLUMN "id";