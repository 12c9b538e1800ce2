-- Social assistance's own cases. The household is a snapshot of what the window recorded.
CREATE TABLE assistance_cases (
    receipt         text PRIMARY KEY,
    matter_code     text NOT NULL,
    state           text NOT NULL,
    hukou_division  text NOT NULL,
    household_size  integer NOT NULL,
    -- Personal data: the household members as proto JSON.
    household       jsonb NOT NULL,
    assessment      jsonb NOT NULL,
    decision_reason text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX assistance_cases_open ON assistance_cases (created_at)
    WHERE state IN ('ASSISTANCE_CASE_STATE_OPEN', 'ASSISTANCE_CASE_STATE_AWAITING_MATERIALS');

-- Every officer action, keyed by its request id so a retried action is done once.
CREATE TABLE decisions (
    request_id text PRIMARY KEY,
    receipt    text NOT NULL REFERENCES assistance_cases (receipt),
    decision   text NOT NULL,
    reason     text NOT NULL,
    officer_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
