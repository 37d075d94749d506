-- The audit trail is append-only: the database itself refuses to change or remove an event.
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
--> statement-breakpoint
-- Full-text search over the plan's main texts (the search service uses these same expressions).
CREATE INDEX aims_search ON aims USING gin (to_tsvector('english'::regconfig, number || ' ' || title));
--> statement-breakpoint
CREATE INDEX actions_search ON actions USING gin (to_tsvector('english'::regconfig, description));
--> statement-breakpoint
CREATE INDEX progress_updates_search ON progress_updates USING gin (to_tsvector('english'::regconfig, text));
