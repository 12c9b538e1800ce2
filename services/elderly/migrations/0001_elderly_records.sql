-- Elderly care's records, by keyed hash of the person's identity number.
CREATE TABLE senior_cards (
    person_key   text PRIMARY KEY,
    card_number  text NOT NULL UNIQUE,
    receipt      text NOT NULL,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz
);

CREATE TABLE age_allowances (
    person_key  text PRIMARY KEY,
    receipt     text NOT NULL,
    band        text NOT NULL,
    amount_fen  bigint NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at  timestamptz
);

CREATE TABLE care_orders (
    receipt         text PRIMARY KEY,
    person_key      text NOT NULL,
    service         text NOT NULL,
    hours_per_month integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    cancelled_at    timestamptz
);

CREATE TABLE renovations (
    receipt    text PRIMARY KEY,
    person_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
