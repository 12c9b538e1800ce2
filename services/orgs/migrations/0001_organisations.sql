-- Registered social organisations and their annual reports.
CREATE TABLE organisations (
    credit_code     text PRIMARY KEY,
    name            text NOT NULL,
    normalized_name text NOT NULL,
    kind            text NOT NULL,
    division        text NOT NULL,
    receipt         text NOT NULL,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    deregistered_at timestamptz
);

-- A name is unique among the organisations registered in one jurisdiction.
CREATE UNIQUE INDEX organisations_name_per_division ON organisations (division, normalized_name)
    WHERE deregistered_at IS NULL;

CREATE TABLE annual_reports (
    credit_code text NOT NULL REFERENCES organisations (credit_code),
    year        integer NOT NULL,
    receipt     text NOT NULL,
    filed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (credit_code, year)
);
