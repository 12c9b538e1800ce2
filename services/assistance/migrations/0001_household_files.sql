-- "One household, one file, one plan": every assisted household has one file across matters.
CREATE TABLE household_files (
    id         text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    closed_at  timestamptz
);

-- Members by keyed hash of their identity number: a second application naming any member of
-- a known household finds the same file.
CREATE TABLE household_members (
    person_key  text PRIMARY KEY,
    file_id     text NOT NULL REFERENCES household_files (id),
    deceased_on date
);

CREATE INDEX household_members_by_file ON household_members (file_id);

-- What the household receives, from approved cases.
CREATE TABLE household_benefits (
    receipt          text PRIMARY KEY,
    file_id          text NOT NULL REFERENCES household_files (id),
    matter_code      text NOT NULL,
    beneficiary_key  text NOT NULL,
    amount_fen       bigint NOT NULL,
    recurring        boolean NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    stopped_at       timestamptz,
    stop_reason      text
);
