"""Records that matched no known person are kept for the jurisdiction's retention period, in
case the person becomes known, and then deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from services.ingest.judging.outreach_rules import OutreachRules
from services.ingest.judging.records import RecordId, UnmatchedRecord


def kept_through(record: UnmatchedRecord, rules: OutreachRules) -> dt.date:
    """The last day the record is kept: retention_days counted from the day after receipt
    (《民法典》第二百零一条: a period in days starts the next day)."""
    days = rules.for_division(record.division).unmatched.retention_days
    return record.received_on + dt.timedelta(days=days)


def past_retention(
    records: Iterable[UnmatchedRecord], today: dt.date, rules: OutreachRules
) -> list[RecordId]:
    """The records to delete on ``today`` (the bureau's local date): kept through a day
    before it."""
    return [r.source for r in records if kept_through(r, rules) < today]
