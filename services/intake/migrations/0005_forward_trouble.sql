-- Why a delivery to a peer failed, and when it was tried: an operator tells a refused
-- certificate from a peer that is down, and sees the forwards that have waited too long.
ALTER TABLE forwards
    ADD COLUMN cause text NOT NULL DEFAULT ''
        CONSTRAINT forwards_cause_known
        CHECK (cause IN ('', 'tls_refused', 'peer_down', 'refused_by_peer', 'peer_unconfigured')),
    -- When the case was held for the peer: how long it has waited.
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN first_attempt_at timestamptz,
    ADD COLUMN last_attempt_at timestamptz;

-- Forwards held before this migration waited since their case was accepted.
UPDATE forwards f SET created_at = c.created_at FROM cases c WHERE c.receipt = f.receipt;

-- The operator's listing (oldest first) and the per-peer backlog.
CREATE INDEX forwards_by_age ON forwards (created_at, receipt);
CREATE INDEX forwards_waiting_by_peer ON forwards (peer, created_at) WHERE state = 'awaiting_home';
