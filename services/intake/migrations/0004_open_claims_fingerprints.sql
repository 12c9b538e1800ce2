-- Who holds a matter open: one row per (matter, person) or (matter, organisation) while the
-- case is not final. The primary key makes "one person, one open case per matter" hold under
-- concurrency: a second case's insert fails, whatever the timing. Keys are keyed hashes.
-- Cases accepted before this migration hold no claims.
CREATE TABLE open_claims (
    claim_key text PRIMARY KEY,
    receipt   text NOT NULL REFERENCES cases (receipt)
);

CREATE INDEX open_claims_by_receipt ON open_claims (receipt);

-- AIP-155: a keyed hash of the submission, so a request id reused for another request is
-- refused ('' for cases accepted before this migration: they cannot be compared).
ALTER TABLE cases ADD COLUMN request_fingerprint text NOT NULL DEFAULT '';

-- The deadline runs into a year whose holiday schedule nobody has supplied.
ALTER TABLE cases ADD COLUMN deadline_provisional boolean NOT NULL DEFAULT false;
