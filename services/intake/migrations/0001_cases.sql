-- The case ledger: one row per accepted application, and its append-only timeline.
CREATE TABLE cases (
    receipt            text PRIMARY KEY,
    request_id         text NOT NULL UNIQUE,
    matter_code        text NOT NULL,
    matter_version     integer NOT NULL,
    status             text NOT NULL,
    accepting_division text NOT NULL,
    hukou_division     text NOT NULL,
    departments        text[] NOT NULL,
    -- Personal data (the applicant, the household) as proto JSON.
    applicant          jsonb NOT NULL,
    household_members  jsonb NOT NULL,
    materials          text[] NOT NULL,
    trace_id           text NOT NULL,
    created_at         timestamptz NOT NULL,
    decision_deadline  timestamptz NOT NULL
);

CREATE INDEX cases_deadline_open ON cases (decision_deadline)
    WHERE status NOT IN ('CASE_STATUS_APPROVED', 'CASE_STATUS_REJECTED');

CREATE TABLE timeline (
    id         bigserial PRIMARY KEY,
    receipt    text NOT NULL REFERENCES cases (receipt),
    -- Chosen by whoever appends (an event id, "accepted", ...): a redelivered event
    -- finds its key taken and appends nothing.
    entry_key  text NOT NULL UNIQUE,
    kind       text NOT NULL,
    department text NOT NULL DEFAULT '',
    note       text NOT NULL DEFAULT '',
    trace_id   text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX timeline_by_case ON timeline (receipt, id);

-- The ledger is append-only: entries are never changed or removed.
CREATE FUNCTION timeline_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the timeline is append-only';
END $$;

CREATE TRIGGER timeline_append_only BEFORE UPDATE OR DELETE ON timeline
    FOR EACH ROW EXECUTE FUNCTION timeline_is_append_only();
