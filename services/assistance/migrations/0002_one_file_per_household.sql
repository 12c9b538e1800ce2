-- Repairs what file_for left behind before it locked the members it names: applications sent
-- at once for one new household each made a file, the members joined only the first, and the
-- others stayed empty while benefits were granted on them (and kept running after a death,
-- since a death settlement only looked at the file the deceased was on). This repair stops
-- no payment to anyone not recorded deceased here.
--
-- Runs after department/0001 in the same database (services.common.department.serve applies
-- the department's migrations first), so department_cases is there to be repointed.

CREATE TEMPORARY TABLE memberless ON COMMIT DROP AS
    SELECT f.id FROM household_files f
     WHERE NOT EXISTS (SELECT 1 FROM household_members m WHERE m.file_id = f.id);

-- A benefit on a file nobody is on belongs on the file its beneficiary is on.
CREATE TEMPORARY TABLE rehomed ON COMMIT DROP AS
    SELECT b.receipt, b.file_id AS old_file, m.file_id AS new_file
      FROM household_benefits b
      JOIN household_members m ON m.person_key = b.beneficiary_key
     WHERE b.file_id IN (SELECT id FROM memberless);

UPDATE household_benefits b SET file_id = r.new_file
  FROM rehomed r
 WHERE b.receipt = r.receipt;

-- Every case opened on such a file names the file its benefits moved to, when they all moved
-- to one. (A case whose file had no benefit keeps it; household_files.grant sends a later
-- benefit to its beneficiary's file.)
UPDATE department_cases c SET household_file = h.new_file
  FROM (SELECT old_file, min(new_file) AS new_file FROM rehomed
         GROUP BY old_file HAVING count(DISTINCT new_file) = 1) h
 WHERE c.household_file = h.old_file;

-- What a death settlement would have stopped had it looked at every file.
UPDATE household_benefits b SET stopped_at = now(), stop_reason = 'death'
  FROM household_members m
 WHERE m.person_key = b.beneficiary_key AND m.deceased_on IS NOT NULL
   AND b.stopped_at IS NULL AND b.recurring;

-- An empty file nothing refers to any more goes; one a case still names is closed.
DELETE FROM household_files f
 WHERE f.id IN (SELECT id FROM memberless)
   AND NOT EXISTS (SELECT 1 FROM household_benefits b WHERE b.file_id = f.id)
   AND NOT EXISTS (SELECT 1 FROM department_cases c WHERE c.household_file = f.id);

UPDATE household_files f SET closed_at = now()
 WHERE f.closed_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM household_members m
                    WHERE m.file_id = f.id AND m.deceased_on IS NULL);
