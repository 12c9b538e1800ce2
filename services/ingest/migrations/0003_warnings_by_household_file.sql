-- The case file lists a department's warnings about one household file: found by the file,
-- newest first, without walking the department's whole queue.
CREATE INDEX warnings_household_file ON warnings (department, household_file, created_at DESC)
    WHERE household_file <> '';
