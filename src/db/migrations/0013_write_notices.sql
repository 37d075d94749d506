-- Every committed write tells the app instances listening on PostgreSQL (db/client.ts
-- listenForWrites): a statement-level trigger on every table sends one notice on the channel
-- partnership_plan_writes, which PostgreSQL delivers when the transaction commits (and not if it
-- rolls back), one per transaction however many statements it ran. A table added by a later
-- migration gets the trigger there too (test/services/read-cache.test.ts checks every table has it).
-- A session with pp.write_notices set to 'off' sends none: the embedded database (PGlite) is one
-- process, which counts its own writes and has no one to tell.
CREATE FUNCTION "pp_notify_write"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('partnership_plan_writes', '');
  RETURN NULL;
END
$$;--> statement-breakpoint
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format(
      'CREATE TRIGGER pp_notify_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
        'FOR EACH STATEMENT WHEN (coalesce(current_setting(''pp.write_notices'', true), '''') <> ''off'') '
        'EXECUTE FUNCTION pp_notify_write()',
      t.tablename
    );
  END LOOP;
END
$$;
