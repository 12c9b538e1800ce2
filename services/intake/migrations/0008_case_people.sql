-- Who a case names (the applicant, the household, the other party, the deceased), as keyed
-- hashes, so that a clerk finds a person's cases without any identity number stored in the
-- clear or compared in SQL. Cases accepted before this migration name nobody here.
CREATE TABLE case_people (
    person_key text NOT NULL,
    receipt    text NOT NULL REFERENCES cases (receipt),
    PRIMARY KEY (person_key, receipt)
);
