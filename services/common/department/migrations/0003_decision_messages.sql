-- What a department said of a decision nobody typed (a divorce confirmed by both parties, by
-- one, withdrawn or lapsed), as a code with typed parameters (onedoor.case.v1.Text in the
-- proto JSON mapping). decision_reason keeps an officer's words as typed; decisions recorded
-- before keep their prose there, shown as stored.
ALTER TABLE department_cases ADD COLUMN decision_message jsonb;
