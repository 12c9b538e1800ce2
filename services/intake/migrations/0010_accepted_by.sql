-- The staff member who accepted the application at the window (the clerk the receipt names),
-- by the sign-in's subject and display name, as the timeline and the audit log record staff
-- (0007). Empty on cases accepted before this migration and on cases a peer forwarded here.
ALTER TABLE cases ADD COLUMN accepted_by text NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN accepted_by_name text NOT NULL DEFAULT '';
