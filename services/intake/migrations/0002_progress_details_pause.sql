-- What the matter asked beyond the applicant (proto JSON of MatterDetails; personal data).
ALTER TABLE cases ADD COLUMN details jsonb NOT NULL DEFAULT '{}';
-- Set while the case waits for materials: its deadline clock is paused since then.
ALTER TABLE cases ADD COLUMN paused_since timestamptz;

-- Where each deciding department stands on a case.
CREATE TABLE case_departments (
    receipt    text NOT NULL REFERENCES cases (receipt),
    department text NOT NULL,
    state      text NOT NULL,
    note       text NOT NULL DEFAULT '',
    PRIMARY KEY (receipt, department)
);

CREATE INDEX cases_by_acceptance ON cases (created_at, receipt);
