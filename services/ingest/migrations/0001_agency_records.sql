-- Batches of records pushed by other agencies, and the records, by keyed hash of identity
-- numbers (the number itself is never stored).
CREATE TABLE batches (
    batch_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency        text NOT NULL,
    jurisdiction  text NOT NULL,
    -- The agency's request id (AIP-155): one batch per agency and request id, so a batch cut
    -- off mid-stream and pushed again is resumed, not started twice.
    request_id    text NOT NULL,
    -- Who pushed (role:subject from the token).
    pushed_by     text NOT NULL,
    state         text NOT NULL DEFAULT 'receiving' CHECK (state IN ('receiving', 'complete')),
    -- Each push of the batch is one attempt; records remember the attempt that kept them, so
    -- a resumed batch counts what its cut-off attempt kept as its own.
    attempts      integer NOT NULL DEFAULT 1,
    -- A keyed hash over the records of the completed batch: the same batch pushed again is
    -- answered with its first report, another batch under its request id is refused.
    fingerprint   text,
    -- The final report (onedoor.ingest.v1.BatchReport, serialized).
    report        bytea,
    trace_id      text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    UNIQUE (agency, request_id)
);

CREATE TABLE agency_records (
    agency            text NOT NULL,
    -- The agency's own id: a record pushed again (same agency, same id) changes nothing.
    record_id         text NOT NULL,
    person_key        text NOT NULL,
    kind              text NOT NULL
        CHECK (kind IN ('MEDICAL_EXPENSE', 'DEATH', 'DISABILITY_GRADE', 'UNEMPLOYMENT')),
    -- settled_on, died_on, changed_on or registered_on, by kind.
    occurred_on       date NOT NULL,
    total_fen         bigint,
    out_of_pocket_fen bigint,
    grade             smallint CHECK (grade BETWEEN 1 AND 4),
    category          text,
    batch_id          uuid NOT NULL REFERENCES batches (batch_id),
    attempt           integer NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency, record_id),
    CHECK (kind <> 'MEDICAL_EXPENSE'
           OR (total_fen >= 0 AND out_of_pocket_fen BETWEEN 0 AND total_fen)),
    CHECK (kind <> 'DISABILITY_GRADE' OR (grade IS NOT NULL AND category IS NOT NULL))
);

-- Matching finds a person's records by keyed hash; judging reads a window of dates.
CREATE INDEX agency_records_person ON agency_records (person_key, kind, occurred_on);
CREATE INDEX agency_records_batch ON agency_records (batch_id, attempt);

-- Every refused line of a batch, with its field and reason (never the value).
CREATE TABLE batch_refusals (
    batch_id     uuid NOT NULL REFERENCES batches (batch_id),
    line         bigint NOT NULL,
    record_id    text NOT NULL DEFAULT '',
    kind         text NOT NULL DEFAULT '',
    field        text NOT NULL,
    reason       text NOT NULL,
    description  text NOT NULL,
    PRIMARY KEY (batch_id, line)
);
