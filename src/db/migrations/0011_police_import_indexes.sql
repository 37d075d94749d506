ALTER TABLE "police_outcomes" DROP CONSTRAINT "police_outcomes_month";--> statement-breakpoint
ALTER TABLE "police_street_crimes" DROP CONSTRAINT "police_street_crimes_month";--> statement-breakpoint
DROP INDEX "police_outcomes_month_lsoa";--> statement-breakpoint
DROP INDEX "police_street_crimes_month_lsoa";--> statement-breakpoint
ALTER TABLE "police_outcomes" ALTER COLUMN "id" SET CACHE 1000;--> statement-breakpoint
ALTER TABLE "police_street_crimes" ALTER COLUMN "id" SET CACHE 1000;