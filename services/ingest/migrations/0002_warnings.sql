-- What the outreach rules (services/ingest/judging) made of the records: warnings for the
-- departments' queues, each with its reason (a case.v1 Text) and the records and batch that
-- caused it. Uniqueness is the database's, as each outcome's dedup scope says.
CREATE TYPE warning_state AS ENUM ('NEW', 'CONTACTED', 'CASE_OPENED', 'DISMISSED');

CREATE TABLE warnings (
    warning_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind           text NOT NULL CHECK (kind IN ('illness_poverty_risk', 'after_death_settlement',
                                                 'disability_subsidy_review',
                                                 'identification_review', 'age_allowance')),
    -- warning: an officer decides; proactive_case: a case to open for the person to confirm.
    action         text NOT NULL CHECK (action IN ('warning', 'proactive_case')),
    department     text NOT NULL,
    matter_code    text NOT NULL,
    -- The jurisdiction whose rules decided it.
    division       text NOT NULL,
    -- onedoor.case.v1.Text in the proto JSON mapping: codes and typed arguments, no prose.
    reason         jsonb NOT NULL,
    dedup_key      text NOT NULL,
    dedup_scope    text NOT NULL CHECK (dedup_scope IN ('while_open', 'ever')),
    household_file text NOT NULL DEFAULT '',
    person_key     text NOT NULL DEFAULT '',
    -- The records that caused it, as [{"agency": ..., "recordId": ...}]; empty for a schedule.
    caused_by      jsonb NOT NULL DEFAULT '[]',
    -- NULL for the daily sweep's.
    batch_id       uuid REFERENCES batches (batch_id),
    trace_id       text NOT NULL DEFAULT '',
    state          warning_state NOT NULL DEFAULT 'NEW',
    handled_by     text NOT NULL DEFAULT '',
    dismiss_reason text NOT NULL DEFAULT '',
    -- The case opened from it.
    receipt        text NOT NULL DEFAULT '',
    -- The household file's latest case at the department that knows it: whom a case opened
    -- from the warning names.
    source_receipt text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (state <> 'DISMISSED' OR dismiss_reason <> ''),
    CHECK (state <> 'CASE_OPENED' OR receipt <> '')
);

-- WHILE_OPEN: at most one not yet handled per key (new or contacted); once a case is opened
-- from it or it is dismissed, the same key may come up again.
CREATE UNIQUE INDEX warnings_dedup_while_open ON warnings (dedup_key)
    WHERE dedup_scope = 'while_open' AND state IN ('NEW', 'CONTACTED');
-- EVER: at most one ever (a person dies, or turns 90, once).
CREATE UNIQUE INDEX warnings_dedup_ever ON warnings (dedup_key) WHERE dedup_scope = 'ever';

-- A department's queue, newest first, keyset-paged on (created_at, warning_id).
CREATE INDEX warnings_queue ON warnings (department, created_at DESC, warning_id DESC);

-- Which records matched a person the platform knows (and when): the others are kept for the
-- retention period and then deleted (services/ingest/retention.py).
ALTER TABLE agency_records ADD COLUMN matched_at timestamptz;
ALTER TABLE agency_records ADD COLUMN judged_at timestamptz;
CREATE INDEX agency_records_unmatched ON agency_records (received_at)
    WHERE matched_at IS NULL;
-- What is still to judge (a judging cut off, or deferred while a department was unreachable).
CREATE INDEX agency_records_unjudged ON agency_records (batch_id) WHERE judged_at IS NULL;

-- How many unmatched records each day's retention sweep deleted, per jurisdiction, and the
-- instant before which they had been received: with the audit log's entry for the same sweep,
-- the proof that they went (services/ingest/retention.py).
CREATE TABLE retention_sweeps (
    swept_on        date NOT NULL,
    jurisdiction    text NOT NULL,
    received_before timestamptz NOT NULL,
    deleted         bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (swept_on, jurisdiction)
);
