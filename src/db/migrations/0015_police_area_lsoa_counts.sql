CREATE TABLE "police_area_lsoa_counts" (
	"partnership_id" integer NOT NULL,
	"month" text NOT NULL,
	"lsoa_code" text NOT NULL,
	"lsoa_name" text NOT NULL,
	"crime_type" text NOT NULL,
	"crimes" integer NOT NULL,
	CONSTRAINT "police_area_lsoa_counts_pk" PRIMARY KEY("partnership_id","month","lsoa_code","crime_type")
);
--> statement-breakpoint
ALTER TABLE "police_area_lsoa_counts" ADD CONSTRAINT "police_area_lsoa_counts_partnership_id_partnerships_id_fk" FOREIGN KEY ("partnership_id") REFERENCES "public"."partnerships"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Tells the app instances of its writes, as every table does (migration 0013).
CREATE TRIGGER pp_notify_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "police_area_lsoa_counts"
  FOR EACH STATEMENT WHEN (coalesce(current_setting('pp.write_notices', true), '') <> 'off')
  EXECUTE FUNCTION pp_notify_write();--> statement-breakpoint
-- The areas' counts per LSOA from the counts already held, as src/services/police-counts.ts keeps them.
INSERT INTO "police_area_lsoa_counts" ("partnership_id", "month", "lsoa_code", "lsoa_name", "crime_type", "crimes")
SELECT p."id", c."month", c."lsoa_code", max(c."lsoa_name"), c."crime_type", sum(c."crimes")::integer
FROM "partnerships" p JOIN "police_crime_counts" c ON EXISTS (
  SELECT 1 FROM "partnership_areas" a WHERE a."partnership_id" = p."id" AND (
    (a."kind" = 'code' AND a."value" = c."lsoa_code") OR (a."kind" = 'prefix' AND starts_with(c."lsoa_name", a."value"))))
GROUP BY p."id", c."month", c."lsoa_code", c."crime_type";
