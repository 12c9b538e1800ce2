-- The opening of 免申即享 cases runs every minute: it finds the few new warnings whose case
-- opens at once without reading the queue (a partial index, empty once they are opened).
CREATE INDEX warnings_to_open_at_once ON warnings (created_at, warning_id)
    WHERE action = 'proactive_case' AND state = 'NEW' AND source_receipt <> '';
