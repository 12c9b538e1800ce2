-- The notifier's send records: one row per (case, step, recipient), unique in the database,
-- so an event delivered twice or a calendar scheduled twice records one message. The row
-- keeps the recipient's phone sealed as intake stores it; the notifier opens it only to send.
CREATE TABLE notices (
    id              bigserial PRIMARY KEY,
    receipt         text NOT NULL,
    notice_key      text NOT NULL,
    recipient       text NOT NULL,
    event           text NOT NULL,
    matter_code     text NOT NULL,
    language        text NOT NULL,
    sealed_phone    text NOT NULL,
    args            jsonb NOT NULL,
    -- pending: waits for due_at; sending: leased to a sender until lease_until (a sender that
    -- died mid-send leaves it to be sent again, with the same idempotency key); sent; failed
    -- (given up, on the case's timeline); opted_out (the person asked for none: never sent).
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'opted_out')),
    due_at          timestamptz NOT NULL,
    lease_until     timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    last_cause      text NOT NULL DEFAULT '',
    provider_id     text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (receipt, notice_key, recipient)
);

CREATE INDEX notices_due ON notices (due_at) WHERE state IN ('pending', 'sending');
