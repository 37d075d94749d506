CREATE TABLE "change_counts" (
	"topic" text PRIMARY KEY NOT NULL,
	"changes" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
-- Tells the app instances of its writes, as every table does (migration 0013).
CREATE TRIGGER pp_notify_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "change_counts"
  FOR EACH STATEMENT WHEN (coalesce(current_setting('pp.write_notices', true), '') <> 'off')
  EXECUTE FUNCTION pp_notify_write();--> statement-breakpoint
INSERT INTO "change_counts" ("topic", "changes") VALUES ('membership', 0);--> statement-breakpoint
-- Every change to partnerships, memberships or users moves the membership count on, in its own
-- transaction: a request that reads the count and then who someone is (services/read-cache.ts)
-- reads that person as at least that new. The count's row is locked until the change commits, so
-- the triggers are deferred to the commit: by then the transaction holds every other lock it takes,
-- and two such transactions cannot each wait for the other.
CREATE FUNCTION "pp_count_membership_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "change_counts" SET "changes" = "changes" + 1 WHERE "topic" = 'membership';
  RETURN NULL;
END
$$;--> statement-breakpoint
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['partnerships', 'memberships', 'users'] LOOP
    EXECUTE format(
      'CREATE CONSTRAINT TRIGGER pp_count_membership_change AFTER INSERT OR UPDATE OR DELETE ON %I '
        'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pp_count_membership_change()',
      t
    );
    -- A constraint trigger cannot be on TRUNCATE: a plain one, at once (it takes no row locks first).
    EXECUTE format(
      'CREATE TRIGGER pp_count_membership_truncate AFTER TRUNCATE ON %I '
        'FOR EACH STATEMENT EXECUTE FUNCTION pp_count_membership_change()',
      t
    );
  END LOOP;
END
$$;
