-- What a department did for a death, as codes with parameters (onedoor.case.v1.Text, in the
-- proto JSON mapping) so that each reader's language renders it. Settlements recorded before
-- keep their prose in outcome, which is shown as stored.
ALTER TABLE death_settlements ADD COLUMN outcome_message jsonb NOT NULL DEFAULT '[]';
