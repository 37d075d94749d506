-- The police.uk rows: each table partitioned by month, each month by force, one table per force's
-- month (src/services/police-months.ts makes them at import, by the same names as here):
--   police_street_crimes -> police_street_crimes_2024_06 -> police_street_crimes_2024_06_<md5(force), 12>
-- An import COPies a file into a new table of its own (no index, no other force's rows), counts it
-- and attaches it; a re-imported month's table is dropped, not deleted row by row. No index: a
-- reader of a force's month reads exactly its table. The rows already held are moved here. The
-- force's default (0012's pp.import_force setting) goes: each new table has its own force as default.
-- Partitions are not given the write-notice trigger (0013): an import's writes to the counts tables
-- send its notice, and a statement on the partitioned table fires the trigger made on it below.
ALTER TABLE "police_street_crimes" RENAME TO "police_street_crimes_before_0014";--> statement-breakpoint
ALTER TABLE "police_outcomes" RENAME TO "police_outcomes_before_0014";--> statement-breakpoint
CREATE TABLE "police_street_crimes" (LIKE "police_street_crimes_before_0014")
  PARTITION BY LIST ("month");--> statement-breakpoint
CREATE TABLE "police_outcomes" (LIKE "police_outcomes_before_0014")
  PARTITION BY LIST ("month");--> statement-breakpoint
DO $$
DECLARE
  root text;
  fm record;
  month_table text;
  leaf text;
BEGIN
  FOREACH root IN ARRAY ARRAY['police_street_crimes', 'police_outcomes'] LOOP
    FOR fm IN EXECUTE format('SELECT DISTINCT force, month FROM %I ORDER BY month, force', root || '_before_0014') LOOP
      month_table := root || '_' || replace(fm.month, '-', '_');
      leaf := month_table || '_' || substr(md5(fm.force), 1, 12);
      IF to_regclass(month_table) IS NULL THEN
        EXECUTE format('CREATE TABLE %I (LIKE %I) PARTITION BY LIST (force)', month_table, root);
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%L)', root, month_table, fm.month);
      END IF;
      EXECUTE format('CREATE TABLE %I (LIKE %I, CONSTRAINT force_month CHECK (force = %L AND month = %L))',
        leaf, root, fm.force, fm.month);
      EXECUTE format('INSERT INTO %I SELECT * FROM %I WHERE force = %L AND month = %L',
        leaf, root || '_before_0014', fm.force, fm.month);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%L)', month_table, leaf, fm.force);
    END LOOP;
    EXECUTE format('DROP TABLE %I', root || '_before_0014');
    EXECUTE format(
      'CREATE TRIGGER pp_notify_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
        'FOR EACH STATEMENT WHEN (coalesce(current_setting(''pp.write_notices'', true), '''') <> ''off'') '
        'EXECUTE FUNCTION pp_notify_write()',
      root
    );
  END LOOP;
END
$$;
