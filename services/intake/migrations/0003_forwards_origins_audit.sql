-- Cases accepted here and decided in the applicant's home jurisdiction: held here until the
-- home jurisdiction has them, then kept in step with its status.
CREATE TABLE forwards (
    receipt         text PRIMARY KEY REFERENCES cases (receipt),
    home_division   text NOT NULL,
    peer            text NOT NULL,
    state           text NOT NULL,
    remote_receipt  text NOT NULL DEFAULT '',
    remote_status   text NOT NULL DEFAULT 'CASE_STATUS_UNSPECIFIED',
    remote_timeline jsonb NOT NULL DEFAULT '[]',
    -- The submission's trace context: the delivery continues its trace, even days later.
    trace_context   jsonb NOT NULL DEFAULT '{}',
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    -- Not before this time: the next delivery attempt or status pull (a lease meanwhile).
    due_at          timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX forwards_due ON forwards (state, due_at);

-- Cases decided here that another jurisdiction accepted.
CREATE TABLE origins (
    receipt            text PRIMARY KEY REFERENCES cases (receipt),
    peer               text NOT NULL,
    accepting_receipt  text NOT NULL,
    accepting_division text NOT NULL,
    clerk_jurisdiction text NOT NULL,
    -- How much of the timeline the accepting side has been told.
    reported_length    integer NOT NULL DEFAULT 0,
    UNIQUE (peer, accepting_receipt)
);

-- Every exchange with a peer (and, later, every read of personal data): append-only, each
-- row's hash covering the previous row's, so a changed or deleted row breaks the chain.
CREATE TABLE audit_log (
    sequence   bigserial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL,
    receipt    text NOT NULL,
    fields     text[] NOT NULL,
    trace_id   text NOT NULL,
    detail     text NOT NULL,
    hash       text NOT NULL
);

CREATE INDEX audit_log_by_receipt ON audit_log (receipt, sequence);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
