-- What the platform says on a timeline entry and in a department's progress, as a code with
-- typed parameters (onedoor.case.v1.Text in the proto JSON mapping), so that each reader's
-- language renders it. Entries stored before keep their prose in note, shown as stored.
ALTER TABLE timeline ADD COLUMN message jsonb;
ALTER TABLE case_departments ADD COLUMN message jsonb;
