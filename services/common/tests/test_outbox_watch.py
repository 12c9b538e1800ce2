"""The outbox gauges read what the last refresh found, the oldest row ageing in between."""

from services.common import outbox_watch
from services.common.outbox_watch import Backlog


def test_the_oldest_row_keeps_ageing_between_refreshes():
    backlog = Backlog(waiting=3, oldest_age=10.0, observed=100.0)
    assert backlog.age_at(100.0) == 10.0
    assert backlog.age_at(104.5) == 14.5


def test_an_empty_outbox_has_no_age():
    assert Backlog(waiting=0, oldest_age=0.0, observed=100.0).age_at(1000.0) == 0.0


def test_a_row_stamped_by_a_clock_ahead_of_the_refresh_is_not_younger_than_zero():
    # created_at is its transaction's start, read by the database's clock.
    assert Backlog(waiting=1, oldest_age=-0.2, observed=100.0).age_at(100.0) == 0.0


def test_the_gauges_read_each_services_latest_backlog(monkeypatch):
    monkeypatch.setattr(
        outbox_watch,
        "_backlogs",
        {
            "intake": Backlog(waiting=4, oldest_age=30.0, observed=0.0),
            "assistance": Backlog(waiting=0, oldest_age=0.0, observed=0.0),
        },
    )
    monkeypatch.setattr(outbox_watch.time, "monotonic", lambda: 5.0)
    assert sorted(outbox_watch._waiting(), key=str) == sorted(
        [(4.0, {"service": "intake"}), (0.0, {"service": "assistance"})], key=str
    )
    assert sorted(outbox_watch._oldest_age(), key=str) == sorted(
        [(35.0, {"service": "intake"}), (0.0, {"service": "assistance"})], key=str
    )
