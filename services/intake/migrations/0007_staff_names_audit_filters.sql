-- The staff member who acted, by display name, on the timeline and in the audit log (an
-- officer's name from the sign-in; never a citizen's). Empty where nobody signed in acted.
ALTER TABLE timeline ADD COLUMN actor_name text NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN actor_name text NOT NULL DEFAULT '';

-- The auditor's filters: one actor's entries, and a span of days, both in chain order.
CREATE INDEX audit_log_by_actor ON audit_log (actor, sequence);
CREATE INDEX audit_log_by_time ON audit_log (created_at, sequence);
