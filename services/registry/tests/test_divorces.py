"""Divorces and the registry department over an in-memory stand-in for their records: what a
party is told, what is recorded, and what is committed, at fixed bureau clocks. No servers.

The stand-in's transactions roll back on an exception like PostgreSQL's, so a refusal raised
inside the transaction that recorded a lapse would undo it: the tests see that."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest

from gateway.rendering import Renderer
from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.events.v1 import events_pb2
from onedoor.registry.v1 import registry_service_pb2 as pb
from services.common.clock import BureauClock
from services.common.errors import ApiError
from services.common.identity import compose
from services.common.keyed_hash import person_key
from services.common.legal_calendar import LegalCalendar
from services.registry import records
from services.registry.department import RegistryDepartment
from services.registry.divorces import Divorces

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = LegalCalendar.with_schedules()
HUSBAND = compose("320585", dt.date(1990, 5, 1), 11)
WIFE = compose("320585", dt.date(1992, 7, 1), 22)
STRANGER = compose("320585", dt.date(1980, 1, 1), 33)
RECEIPT = "TC-20260309-0001"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI).astimezone(dt.UTC)


# Filed at 01:30 local on Mon 2026-03-09 (17:30 UTC on the 8th): the cooling-off period's last
# day is 2026-04-08, the last day to confirm 2026-05-08.
FILED_AT = at(dt.date(2026, 3, 9), 1, 30)
COOLING_OFF_LAST_DAY = dt.date(2026, 4, 8)
CONFIRMATION_LAST_DAY = dt.date(2026, 5, 8)


class Store:
    """The registry's rows and what it told the platform, with transaction snapshots."""

    def __init__(self) -> None:
        self.divorces: dict[str, dict[str, Any]] = {}
        self.moves: list[tuple[str, int, str, int, str]] = []
        # What each move said, as the department case records it.
        self.messages: list[case_pb2.Text | None] = []
        self.ended_marriages: list[int] = []
        self.filed: list[tuple[Any, ...]] = []
        # Who recorded each move (the clerk's display name; empty for the sweep).
        self.staff: list[str] = []

    def snapshot(self) -> tuple[Any, ...]:
        return copy.deepcopy(
            (self.divorces, self.moves, self.messages, self.ended_marriages, self.filed, self.staff)
        )

    def restore(self, saved: tuple[Any, ...]) -> None:
        (
            self.divorces,
            self.moves,
            self.messages,
            self.ended_marriages,
            self.filed,
            self.staff,
        ) = saved


class Conn:
    def __init__(self, store: Store) -> None:
        self.store = store

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        saved = self.store.snapshot()
        try:
            yield
        except BaseException:
            self.store.restore(saved)
            raise

    async def fetchval(self, query: str, *args: object) -> object:
        return None  # no pending divorce for the marriage


class Pool:
    def __init__(self, store: Store) -> None:
        self.store = store

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Conn]:
        yield Conn(self.store)


class Cases:
    async def move(
        self,
        conn: Conn,
        receipt: str,
        state: int,
        reason: str,
        outcome: int,
        *,
        officer_name: str = "",
        message: case_pb2.Text | None = None,
    ) -> None:
        # What the timeline will say, by its code.
        said = case_pb2.TextCode.Name(message.code) if message is not None else ""
        conn.store.moves.append((receipt, state, reason, outcome, said))
        conn.store.messages.append(message)
        conn.store.staff.append(officer_name)


class Now:
    """A bureau clock whose instant the test moves."""

    def __init__(self, instant: dt.datetime) -> None:
        self.instant = instant

    def clock(self) -> BureauClock:
        return BureauClock(SHANGHAI, lambda: self.instant)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    store = Store()

    async def divorce(conn: Conn, receipt: str, *, lock: bool = False) -> records.Divorce | None:
        row = conn.store.divorces.get(receipt)
        return records.Divorce(**row) if row is not None else None

    async def set_divorce(conn: Conn, receipt: str, **changes: object) -> records.Divorce:
        conn.store.divorces[receipt].update(changes)
        return records.Divorce(**conn.store.divorces[receipt])

    async def end_marriage(conn: Conn, marriage_id: int, by: str) -> None:
        conn.store.ended_marriages.append(marriage_id)

    async def pending_divorces(conn: Conn) -> list[records.Divorce]:
        return [
            records.Divorce(**r)
            for r in conn.store.divorces.values()
            if r["state"] in records.PENDING
        ]

    async def current_marriage(conn: Conn, key: str) -> dict[str, Any]:
        return {"id": 7, "key_a": person_key(HUSBAND), "key_b": person_key(WIFE)}

    async def file_divorce(conn: Conn, *args: object) -> None:
        conn.store.filed.append(args)

    for name, fake in [
        ("divorce", divorce),
        ("set_divorce", set_divorce),
        ("end_marriage", end_marriage),
        ("pending_divorces", pending_divorces),
        ("current_marriage", current_marriage),
        ("file_divorce", file_divorce),
    ]:
        monkeypatch.setattr(records, name, fake)
    return store


def filed(store: Store, filed_at: dt.datetime = FILED_AT) -> None:
    store.divorces[RECEIPT] = {
        "receipt": RECEIPT,
        "marriage_id": 7,
        "key_a": person_key(HUSBAND),
        "key_b": person_key(WIFE),
        "filed_at": filed_at,
        "state": pb.DIVORCE_STATE_COOLING_OFF,
        "confirmed_a": False,
        "confirmed_b": False,
        "ended_at": None,
    }


def divorces(store: Store, now: Now) -> Divorces:
    return Divorces(Pool(store), Cases(), now.clock(), CALENDAR)  # type: ignore[arg-type]


async def refused(call: Any) -> ApiError:
    with pytest.raises(ApiError) as raised:
        await call
    return raised.value


@pytest.mark.parametrize("hour", [0, 11, 23])
async def test_on_the_last_day_of_cooling_off_a_party_withdraws(store, hour):
    filed(store)
    registry = divorces(store, Now(at(COOLING_OFF_LAST_DAY, hour, 30)))
    refusal = await refused(registry.confirm(RECEIPT, HUSBAND))
    assert (refusal.code, refusal.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "COOLING_OFF")
    assert "the cooling-off period runs until 2026-04-08 (its last day)" in refusal.message
    assert "UTC" not in refusal.message
    # The dates again for a console to say them in its own words: local days, ISO.
    assert refusal.metadata == {
        "cooling_off_last_day": "2026-04-08",
        "confirmation_first_day": "2026-04-09",
        "confirmation_last_day": "2026-05-08",
    }
    answer = await registry.withdraw(RECEIPT, WIFE)
    assert answer.state == pb.DIVORCE_STATE_WITHDRAWN
    assert store.moves == [
        (
            RECEIPT,
            dpb.CASE_STATE_WITHDRAWN,
            "",
            events_pb2.OUTCOME_WITHDRAWN,
            "TEXT_CODE_DIVORCE_WITHDRAWN",
        )
    ]


@pytest.mark.parametrize("hour", [0, 1, 11, 23])
async def test_the_day_after_cooling_off_both_confirm_and_nobody_withdraws(store, hour):
    filed(store)
    # 01:30 on 9 April is 17:30 UTC on the 8th, which used to be refused as "cooling-off".
    registry = divorces(store, Now(at(COOLING_OFF_LAST_DAY + dt.timedelta(days=1), hour, 30)))
    refusal = await refused(registry.withdraw(RECEIPT, WIFE))
    assert refusal.reason == "NOT_COOLING_OFF"
    assert "whose last day was 2026-04-08" in refusal.message
    first = await registry.confirm(RECEIPT, HUSBAND)
    assert (first.state, first.confirmations) == (pb.DIVORCE_STATE_AWAITING_CONFIRMATION, 1)
    assert await registry.confirm(RECEIPT, HUSBAND) == first  # idempotent per party
    second = await registry.confirm(RECEIPT, WIFE)
    assert second.state == pb.DIVORCE_STATE_CONFIRMED
    assert store.ended_marriages == [7]
    assert [(m[1], m[2], m[4]) for m in store.moves] == [
        (dpb.CASE_STATE_OPEN, "", "TEXT_CODE_DIVORCE_CONFIRMED_BY_ONE"),
        (dpb.CASE_STATE_APPROVED, "", "TEXT_CODE_DIVORCE_REGISTERED"),
    ]


async def test_each_step_names_the_clerk_who_recorded_it(store):
    filed(store)
    registry = divorces(store, Now(at(COOLING_OFF_LAST_DAY + dt.timedelta(days=1), 10)))
    await registry.confirm(RECEIPT, HUSBAND, "王窗口")
    await registry.confirm(RECEIPT, WIFE, "李窗口")
    assert store.staff == ["王窗口", "李窗口"]
    filed(store)
    store.staff.clear()
    registry = divorces(store, Now(at(COOLING_OFF_LAST_DAY, 10)))
    await registry.withdraw(RECEIPT, WIFE, "赵窗口")
    assert store.staff == ["赵窗口"]


async def test_the_last_day_to_confirm_at_a_minute_to_midnight_still_confirms(store):
    filed(store)
    registry = divorces(store, Now(at(CONFIRMATION_LAST_DAY, 23, 59)))
    assert (await registry.confirm(RECEIPT, WIFE)).confirmations == 1
    assert await registry.sweep() == 0


async def test_a_late_confirmation_is_refused_and_the_lapse_committed_before_the_sweep(store):
    filed(store)
    now = Now(at(CONFIRMATION_LAST_DAY + dt.timedelta(days=1), 0, 1))
    registry = divorces(store, now)
    refusal = await refused(registry.confirm(RECEIPT, HUSBAND))
    assert (refusal.code, refusal.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "DIVORCE_LAPSED")
    assert "by 2026-05-08 (the last day to confirm)" in refusal.message
    # The refusal did not roll the lapse back: the divorce and its case have lapsed.
    assert store.divorces[RECEIPT]["state"] == pb.DIVORCE_STATE_LAPSED
    assert store.divorces[RECEIPT]["ended_at"] == now.instant
    assert store.moves == [
        (
            RECEIPT,
            dpb.CASE_STATE_LAPSED,
            # The registry's own words are the message, never English prose as the reason.
            "",
            events_pb2.OUTCOME_LAPSED,
            "TEXT_CODE_DIVORCE_LAPSED",
        )
    ]
    # Asked again, and swept: the same answer, and nothing lapses twice.
    again = await refused(registry.confirm(RECEIPT, WIFE))
    assert (again.reason, again.message) == (refusal.reason, refusal.message)
    assert await registry.sweep() == 0
    assert len(store.moves) == 1


async def test_a_late_confirmation_after_the_sweep_gets_the_same_answer(store):
    filed(store)
    registry = divorces(store, Now(at(CONFIRMATION_LAST_DAY + dt.timedelta(days=1), 11, 0)))
    assert await registry.sweep() == 1
    refusal = await refused(registry.confirm(RECEIPT, HUSBAND))
    assert (refusal.code, refusal.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "DIVORCE_LAPSED")
    assert "by 2026-05-08 (the last day to confirm)" in refusal.message
    assert store.moves == [
        (
            RECEIPT,
            dpb.CASE_STATE_LAPSED,
            # The registry's own words are the message, never English prose as the reason.
            "",
            events_pb2.OUTCOME_LAPSED,
            "TEXT_CODE_DIVORCE_LAPSED",
        )
    ]


async def test_a_late_withdrawal_is_refused_with_the_dates_and_lapses_the_divorce(store):
    filed(store)
    registry = divorces(store, Now(at(CONFIRMATION_LAST_DAY + dt.timedelta(days=1), 1, 30)))
    refusal = await refused(registry.withdraw(RECEIPT, WIFE))
    assert refusal.reason == "NOT_COOLING_OFF"
    assert "2026-04-08" in refusal.message and "lapsed after 2026-05-08" in refusal.message
    assert store.divorces[RECEIPT]["state"] == pb.DIVORCE_STATE_LAPSED


async def test_the_sweep_lapses_from_the_day_after_the_last_day_to_confirm(store):
    filed(store)
    now = Now(at(CONFIRMATION_LAST_DAY, 23, 59))
    registry = divorces(store, now)
    assert await registry.sweep() == 0
    now.instant = at(CONFIRMATION_LAST_DAY + dt.timedelta(days=1), 0, 0)
    registry = divorces(store, now)
    assert await registry.sweep() == 1
    assert store.moves[0][1:] == (
        dpb.CASE_STATE_LAPSED,
        "",
        events_pb2.OUTCOME_LAPSED,
        "TEXT_CODE_DIVORCE_LAPSED",
    )
    # The lapse as a code with its date, in either language: no English prose recorded.
    (lapse,) = store.messages
    assert lapse is not None
    assert [(a.name, a.date) for a in lapse.args] == [("confirmation_last_day", "2026-05-08")]
    assert "2026-05-08" in Renderer("zh-CN").text(lapse)
    assert "2026-05-08" in Renderer("en").text(lapse)


async def test_a_closed_divorce_and_a_stranger_are_refused(store):
    filed(store)
    registry = divorces(store, Now(at(dt.date(2026, 3, 20), 11)))
    stranger = await refused(registry.confirm(RECEIPT, STRANGER))
    assert stranger.code == grpc.StatusCode.PERMISSION_DENIED
    await registry.withdraw(RECEIPT, HUSBAND)
    assert (await refused(registry.confirm(RECEIPT, WIFE))).reason == "DIVORCE_CLOSED"
    assert (await refused(registry.withdraw(RECEIPT, WIFE))).reason == "DIVORCE_CLOSED"


async def test_the_divorce_shows_the_end_of_its_local_last_days(store):
    filed(store)
    answer = await divorces(store, Now(at(dt.date(2026, 4, 9), 1, 30))).confirm(RECEIPT, WIFE)
    cooling_off_end = answer.cooling_off_end_time.ToDatetime(dt.UTC)
    confirmation_end = answer.confirmation_end_time.ToDatetime(dt.UTC)
    assert cooling_off_end == dt.datetime(2026, 4, 8, 15, 59, 59, tzinfo=dt.UTC)
    assert confirmation_end == dt.datetime(2026, 5, 8, 15, 59, 59, tzinfo=dt.UTC)
    assert answer.filed_time.ToDatetime(dt.UTC) == FILED_AT


@pytest.mark.parametrize(
    "filed_at", [at(dt.date(2026, 3, 9), 0, 30), at(dt.date(2026, 3, 9), 23, 30)]
)
async def test_opening_the_case_notes_the_local_dates(store, filed_at):
    case = case_pb2.Case(receipt=RECEIPT, matter_code="registry.divorce")
    case.applicant.id_number = HUSBAND
    case.details.other_party.id_number = WIFE
    case.create_time.FromDatetime(filed_at)
    department = RegistryDepartment(Pool(store), Now(filed_at).clock(), CALENDAR)  # type: ignore[arg-type]
    opening = await department.open(Conn(store), case)  # type: ignore[arg-type]
    assert opening.assessment.eligible
    reason = Renderer("en").clauses(opening.assessment.findings)
    assert "filed on 2026-03-09" in reason
    assert "the cooling-off period runs until 2026-04-08 (its last day)" in reason
    assert "from 2026-04-09 to 2026-05-08" in reason
    assert {f.name: f.value for f in opening.assessment.facts} == {
        "filed_on": "2026-03-09",
        "cooling_off_last_day": "2026-04-08",
        "confirmation_last_day": "2026-05-08",
    }
    assert store.filed[0][-1] == filed_at
