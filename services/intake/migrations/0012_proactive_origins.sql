-- Proactive cases: opened by an officer from a warning that other agencies' records raised
-- (services/ingest), in the same ledger as window cases. One case per warning.
CREATE TABLE proactive_origins (
    receipt        text PRIMARY KEY REFERENCES cases (receipt),
    warning_id     uuid NOT NULL UNIQUE,
    department     text NOT NULL,
    -- The trace of the batch of records that raised the warning.
    batch_trace_id text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now()
);
