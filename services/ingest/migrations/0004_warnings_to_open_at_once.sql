-- Why the bureau could not open a 免申即享 case itself (the case it would name is gone, or
-- does not name the person): the warning stays new for an officer, and is not tried again.
ALTER TABLE warnings ADD COLUMN opening_refused text;

-- The opening of 免申即享 cases runs every minute: it finds the few new warnings whose case
-- opens at once without reading the queue (a partial index, empty once they are opened).
CREATE INDEX warnings_to_open_at_once ON warnings (created_at, warning_id)
    WHERE action = 'proactive_case' AND state = 'NEW' AND source_receipt <> ''
      AND opening_refused IS NULL;
