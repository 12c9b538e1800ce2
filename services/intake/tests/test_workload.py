"""The departments' workload rules: what counts as overdue and due soon on the bureau's local
date, the instants the ledger's query divides deadlines at, and the gauges' readings."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from onedoor.case.v1 import case_pb2
from services.common.catalog import DEPARTMENTS
from services.common.clock import fixed
from services.intake import store
from services.intake.status import DECIDED, FINAL_NAMES
from services.intake.workload import Urgency, Workload, WorkloadGauges, horizon, urgency

DAY = dt.timedelta(days=1)
TODAY = dt.date(2026, 12, 2)
# 01:30 on 2 December in China, while a host on UTC still has 1 December.
EARLY_MORNING = dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC)
MIGRATION = Path(store.__file__).parent / "migrations" / "0006_undecided_department_cases.sql"


def test_a_last_day_before_today_is_overdue_and_the_next_three_days_are_due_soon():
    assert urgency(TODAY - DAY, TODAY) is Urgency.OVERDUE
    assert urgency(TODAY - 30 * DAY, TODAY) is Urgency.OVERDUE
    assert urgency(TODAY, TODAY) is Urgency.DUE_SOON
    assert urgency(TODAY + DAY, TODAY) is Urgency.DUE_SOON
    assert urgency(TODAY + 2 * DAY, TODAY) is Urgency.DUE_SOON
    assert urgency(TODAY + 3 * DAY, TODAY) is None
    assert urgency(TODAY + 40 * DAY, TODAY) is None


def test_the_horizon_is_the_bureaus_date_not_the_hosts():
    clock = fixed(EARLY_MORNING)
    seen = horizon(clock)
    assert seen.today == TODAY
    # A case whose last day was 1 December (the host's today) is overdue at 01:30 on the 2nd.
    assert seen.urgency_of(clock.end_of_day(TODAY - DAY)) is Urgency.OVERDUE
    assert seen.urgency_of(clock.end_of_day(TODAY)) is Urgency.DUE_SOON
    assert seen.urgency_of(clock.end_of_day(TODAY + 2 * DAY)) is Urgency.DUE_SOON
    assert seen.urgency_of(clock.end_of_day(TODAY + 3 * DAY)) is None
    # The boundaries are the bureau's midnights (16:00 UTC).
    assert seen.overdue_before == dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
    assert seen.due_before == dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.UTC)


instants = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2028, 12, 31),
    timezones=st.just(dt.UTC),
)


@given(
    now=instants,
    deadline=instants,
    zone=st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/New_York"]),
)
def test_the_ledgers_instants_divide_deadlines_where_the_local_dates_do(now, deadline, zone):
    """Whatever the instant, the zone or its daylight saving, the query's comparisons say of a
    deadline what the rule says of its local date."""
    clock = fixed(now, zone)
    assert horizon(clock).urgency_of(deadline) is urgency(clock.local_date(deadline), clock.today())


def _literals(sql: str, column: str) -> set[str]:
    match = re.search(rf"{column} (?:NOT )?IN \(([^)]*)\)", sql)
    assert match is not None, f"no IN list on {column}"
    return set(re.findall(r"'([^']*)'", match.group(1)))


def test_the_query_and_the_partial_indexes_state_the_same_predicates():
    """The planner uses a partial index only when the query implies its predicate: a state or
    status the code adds must come with a new migration."""
    migration = MIGRATION.read_text(encoding="utf-8")
    assert _literals(store._WORKLOAD, "p.state") == _literals(migration, "state")
    assert _literals(store._WORKLOAD, "c.status") == _literals(migration, "status")
    assert _literals(migration, "status") == set(FINAL_NAMES)


def test_undecided_is_every_progress_state_but_the_decided_ones():
    every = {s for s in case_pb2.ProgressState.values() if s != case_pb2.PROGRESS_STATE_UNSPECIFIED}
    undecided = {
        case_pb2.ProgressState.Value(f"PROGRESS_STATE_{w.upper()}") for w in store.UNDECIDED_WORDS
    }
    assert undecided == every - DECIDED


class _Ledger:
    def __init__(self, counts: dict[str, Workload]) -> None:
        self.counts = counts
        self.asked: list[dt.date] = []

    async def workload(self, seen: object) -> dict[str, Workload]:
        self.asked.append(seen.today)  # type: ignore[attr-defined]
        return self.counts


async def test_the_gauges_read_the_last_count_with_every_department():
    ledger = _Ledger({"elderly": Workload(open=5, overdue=2, due_soon=1)})
    gauges = WorkloadGauges(ledger, fixed(EARLY_MORNING))  # type: ignore[arg-type]
    # Nothing counted yet: no value rather than a zero.
    assert list(gauges.readings("open")) == []
    await gauges.refresh()
    assert ledger.asked == [TODAY]
    overdue = {labels["department"]: value for value, labels in gauges.readings("overdue")}
    assert overdue == {d: (2 if d == "elderly" else 0) for d in DEPARTMENTS}
    opened = {labels["department"]: value for value, labels in gauges.readings("open")}
    assert opened["elderly"] == 5
    due = {labels["department"]: value for value, labels in gauges.readings("due_soon")}
    assert due["elderly"] == 1
