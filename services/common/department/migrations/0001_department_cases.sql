-- A department's own cases, one per accepted application it decides.
CREATE TABLE department_cases (
    receipt            text PRIMARY KEY,
    matter_code        text NOT NULL,
    matter_version     integer NOT NULL,
    state              text NOT NULL,
    hukou_division     text NOT NULL,
    accepting_division text NOT NULL,
    decision_deadline  timestamptz NOT NULL,
    -- The application as the window recorded it (personal data), proto JSON.
    application        jsonb NOT NULL,
    -- The rules' recommendation, proto JSON of onedoor.department.v1.Assessment.
    assessment         jsonb NOT NULL,
    decision_reason    text NOT NULL DEFAULT '',
    household_file     text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX department_cases_queue ON department_cases (state, created_at, receipt);

-- Every officer action, keyed by its request id so a retried action is done once.
CREATE TABLE decisions (
    request_id text PRIMARY KEY,
    receipt    text NOT NULL REFERENCES department_cases (receipt),
    decision   text NOT NULL,
    reason     text NOT NULL,
    officer_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What the department did for a death registration, once per registration.
CREATE TABLE death_settlements (
    receipt        text PRIMARY KEY,
    person_key     text NOT NULL,
    held_something boolean NOT NULL,
    outcome        text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
