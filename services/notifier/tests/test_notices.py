"""Which notices a case's events call for, and to whom."""

from __future__ import annotations

import datetime as dt

from onedoor.case.v1 import case_pb2
from onedoor.events.v1 import events_pb2
from services.common import legal_calendar
from services.common.clock import BureauClock
from services.notifier import notices
from services.notifier.notices import Event, Recipient

CLOCK = BureauClock()
CALENDAR = legal_calendar.load()
MORNING = dt.time(9, 0)


def case(matter: str, **applicant: object) -> case_pb2.Case:
    made = case_pb2.Case(receipt="320585-288FB-8RAEW", matter_code=matter)
    made.applicant.phone = "sealed:v1:applicant"
    for name, value in applicant.items():
        setattr(made.applicant.notices, name, value)
    # Filed on 2 December 2026 at 09:30 bureau time (01:30 UTC).
    made.create_time.FromDatetime(dt.datetime(2026, 12, 2, 1, 30, tzinfo=dt.UTC))
    made.decision_deadline.FromDatetime(dt.datetime(2027, 1, 13, 15, 59, 59, tzinfo=dt.UTC))
    return made


def test_acceptance_tells_the_applicant_the_local_deadline() -> None:
    (notice,) = notices.accepted(case("assistance.dibao"), CLOCK, CALENDAR, MORNING)
    assert notice.event is Event.ACCEPTED
    assert notice.contact.recipient is Recipient.APPLICANT
    assert notice.args["deadline"] == "2027-01-13"
    assert notice.due is None


def test_a_divorce_tells_both_parties_and_schedules_its_calendar() -> None:
    divorce = case("registry.divorce")
    divorce.details.other_party.phone = "sealed:v1:party"
    divorce.details.other_party.notices.language = "en"
    found = notices.accepted(divorce, CLOCK, CALENDAR, MORNING)
    by_key: dict[str, list[notices.Notice]] = {}
    for n in found:
        by_key.setdefault(n.key, []).append(n)
    assert sorted(by_key) == [
        "accepted",
        "divorce.confirmation_last_day",
        "divorce.confirmation_opens",
        "divorce.cooling_off_ends",
    ]
    for group in by_key.values():
        assert [n.contact.recipient for n in group] == [Recipient.APPLICANT, Recipient.OTHER_PARTY]
        assert [n.contact.language for n in group] == ["zh-CN", "en"]
    # Filed 2026-12-02: cooling-off ends 2027-01-04 (1 January a holiday, 2-3 a weekend ...).
    ends = by_key["divorce.cooling_off_ends"][0]
    day = dt.date.fromisoformat(ends.args["cooling_off_last_day"])
    assert ends.due == dt.datetime.combine(day, MORNING, tzinfo=CLOCK.zone).astimezone(dt.UTC)
    opens = by_key["divorce.confirmation_opens"][0]
    assert opens.args["confirmation_first_day"] == (day + dt.timedelta(days=1)).isoformat()


def test_a_marriage_tells_both_parties_and_others_only_the_applicant() -> None:
    marriage = case("registry.marriage")
    marriage.details.other_party.phone = "sealed:v1:party"
    assert len(notices.accepted(marriage, CLOCK, CALENDAR, MORNING)) == 2
    dibao = case("assistance.dibao")
    dibao.details.other_party.phone = "sealed:v1:party"
    assert len(notices.accepted(dibao, CLOCK, CALENDAR, MORNING)) == 1


def test_an_opt_out_is_carried_on_the_notice() -> None:
    (notice,) = notices.accepted(case("assistance.dibao", opted_out=True), CLOCK, CALENDAR, MORNING)
    assert notice.contact.opted_out


def test_decisions_are_keyed_by_their_event() -> None:
    event = events_pb2.CaseDecided(
        event_id="e-1",
        receipt="320585-288FB-8RAEW",
        department="assistance",
        outcome=events_pb2.OUTCOME_REJECTED,
        reason="收入超过标准",
    )
    (notice,) = notices.decided(event, case("assistance.dibao"), CLOCK, CALENDAR)
    assert (notice.key, notice.event, notice.args["reason"]) == (
        "decided:e-1",
        Event.REJECTED,
        "收入超过标准",
    )
    event.outcome = events_pb2.OUTCOME_CONFIRMED
    assert notices.decided(event, case("registry.divorce"), CLOCK, CALENDAR) == []


def test_a_proactive_case_asks_for_confirmation_by_its_local_deadline_and_nothing_else() -> None:
    (notice,) = notices.accepted(
        case("assistance.temporary"), CLOCK, CALENDAR, MORNING, proactive=True
    )
    assert (notice.key, notice.event) == (
        "proactive.awaiting_confirmation",
        Event.PROACTIVE_AWAITING_CONFIRMATION,
    )
    # 2027-01-13 15:59:59 UTC is 23:59:59 that day in the bureau.
    assert notice.args["confirm_by"] == "2027-01-13"


def test_a_forwarded_case_is_told_home_accepted_it_and_decided_it_once_each() -> None:
    forwarded = events_pb2.CaseProgressed(
        event_id="e-1", kind=case_pb2.TIMELINE_ENTRY_KIND_FORWARDED
    )
    (notice,) = notices.progressed(forwarded, case("assistance.dibao"), CLOCK, CALENDAR)
    assert (notice.key, notice.event) == (
        "forwarded.accepted_at_home",
        Event.FORWARDED_ACCEPTED_AT_HOME,
    )
    decided = events_pb2.CaseProgressed(
        event_id="e-2",
        kind=case_pb2.TIMELINE_ENTRY_KIND_REJECTED,
        home_status=case_pb2.CASE_STATUS_REJECTED,
    )
    (notice,) = notices.progressed(decided, case("assistance.dibao"), CLOCK, CALENDAR)
    assert (notice.key, notice.event) == (
        "forwarded.decided_at_home",
        Event.FORWARDED_DECIDED_AT_HOME,
    )
    # A ledger step without a notice of its own tells nobody.
    other = events_pb2.CaseProgressed(event_id="e-3", kind=case_pb2.TIMELINE_ENTRY_KIND_OVERDUE)
    assert notices.progressed(other, case("assistance.dibao"), CLOCK, CALENDAR) == []


def test_a_case_forwarded_here_is_told_here_only_what_the_accepting_city_does_not_relay() -> None:
    """The accepting city tells its applicant home's acceptance and decision; home tells
    only the materials steps, which the accepting city does not relay."""
    marriage = case("registry.marriage")
    marriage.details.other_party.phone = "sealed:v1:party"
    marriage.origin.peer = "taicang"
    marriage.origin.accepting_receipt = "320585-7K3F9-QX2MA"
    assert notices.accepted(marriage, CLOCK, CALENDAR, MORNING) == []
    decided = events_pb2.CaseDecided(
        event_id="e-1", department="registry", outcome=events_pb2.OUTCOME_APPROVED
    )
    assert notices.decided(decided, marriage, CLOCK, CALENDAR) == []
    supplied = events_pb2.CaseProgressed(
        event_id="e-2", kind=case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED
    )
    # Home's own request for materials, and their handing in, the window does not relay:
    # they are told from here, once.
    supplied_told = notices.progressed(supplied, marriage, CLOCK, CALENDAR)
    assert [n.event for n in supplied_told] == [notices.Event.MATERIALS_RECEIVED] * 2
    asked = events_pb2.CaseDecided(
        event_id="e-3",
        department="registry",
        outcome=events_pb2.OUTCOME_MATERIALS_REQUESTED,
        reason="户口簿",
    )
    assert [n.event for n in notices.decided(asked, marriage, CLOCK, CALENDAR)] == [
        notices.Event.MATERIALS_REQUESTED
    ] * 2
    # The same case accepted at this window is told.
    marriage.ClearField("origin")
    assert len(notices.accepted(marriage, CLOCK, CALENDAR, MORNING)) == 2
