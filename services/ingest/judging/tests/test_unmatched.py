import datetime as dt

from services.ingest.judging import unmatched
from services.ingest.judging.records import UnmatchedRecord

from .people import rules, source

D = dt.date
# 180 days by default, 365 for Taicang.
RULES = rules('["320585".unmatched]\nretention_days = 365\n')


def kept(division, received_on):
    return UnmatchedRecord(source(), division, received_on)


def test_kept_through_the_last_day_of_the_period_and_deleted_the_day_after():
    record = kept("110101", D(2027, 1, 1))
    assert unmatched.kept_through(record, RULES) == D(2027, 6, 30)
    assert unmatched.past_retention([record], D(2027, 6, 30), RULES) == []
    assert unmatched.past_retention([record], D(2027, 7, 1), RULES) == [record.source]


def test_each_record_keeps_its_jurisdictions_period():
    beijing, taicang = kept("110101", D(2027, 1, 1)), kept("320585", D(2027, 1, 1))
    day = D(2027, 12, 31)
    assert unmatched.past_retention([beijing, taicang], day, RULES) == [beijing.source]
    assert unmatched.past_retention([beijing, taicang], D(2028, 1, 2), RULES) == [
        beijing.source,
        taicang.source,
    ]


def test_a_record_received_today_is_kept():
    assert unmatched.past_retention([kept("110101", D(2027, 1, 1))], D(2027, 1, 1), RULES) == []
