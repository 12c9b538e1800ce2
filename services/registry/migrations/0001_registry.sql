-- The registry's own records, by keyed hash of identity numbers.
CREATE TABLE deaths (
    person_key    text PRIMARY KEY,
    receipt       text NOT NULL,
    date_of_death date NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE marriages (
    id             bigserial PRIMARY KEY,
    key_a          text NOT NULL,
    key_b          text NOT NULL,
    receipt        text NOT NULL UNIQUE,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    ended_at       timestamptz,
    ended_by       text
);

-- Nobody is in two marriages at once.
CREATE UNIQUE INDEX marriages_current_a ON marriages (key_a) WHERE ended_at IS NULL;
CREATE UNIQUE INDEX marriages_current_b ON marriages (key_b) WHERE ended_at IS NULL;

CREATE TABLE divorces (
    receipt      text PRIMARY KEY,
    marriage_id  bigint NOT NULL REFERENCES marriages (id),
    key_a        text NOT NULL,
    key_b        text NOT NULL,
    filed_at     timestamptz NOT NULL,
    state        text NOT NULL,
    confirmed_a  boolean NOT NULL DEFAULT false,
    confirmed_b  boolean NOT NULL DEFAULT false,
    ended_at     timestamptz
);

CREATE UNIQUE INDEX divorces_one_pending_per_marriage ON divorces (marriage_id)
    WHERE state IN ('DIVORCE_STATE_COOLING_OFF', 'DIVORCE_STATE_AWAITING_CONFIRMATION');
