"""What the notifier tells people, as pure rules: which notices a case's events call for, to
whom, and when the divorce calendar's dated notices fall. No I/O, no nameko: the service
(service.py) feeds it the case as intake's contacts view has it and stores what it returns.

A notice is keyed by (receipt, key, recipient): the key names the step (``accepted``, a
decision's event id, ``divorce.cooling_off_ends``), so an event delivered twice, or a
calendar scheduled twice, makes the same keys and the database keeps one
(store.py: a unique index, never a read-then-insert).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from onedoor.case.v1 import case_pb2
from onedoor.events.v1 import events_pb2
from services.common.clock import BureauClock
from services.common.legal_calendar import LegalCalendar
from services.registry import cooling_off


class Event(enum.Enum):
    """Every step a person is told about; each has a template per matter (templates/)."""

    ACCEPTED = "accepted"
    MATERIALS_REQUESTED = "materials_requested"
    MATERIALS_RECEIVED = "materials_received"
    APPROVED = "approved"
    REJECTED = "rejected"
    FORWARDED_ACCEPTED_AT_HOME = "forwarded_accepted_at_home"
    FORWARDED_DECIDED_AT_HOME = "forwarded_decided_at_home"
    COOLING_OFF_ENDS = "cooling_off_ends"
    CONFIRMATION_OPENS = "confirmation_opens"
    CONFIRMATION_LAST_DAY = "confirmation_last_day"
    LAPSED = "lapsed"
    # A case the bureau opened itself (a proactive allowance) waiting for the person's
    # confirmation: told instead of the acceptance (case_accepted's ``proactive``).
    PROACTIVE_AWAITING_CONFIRMATION = "proactive_awaiting_confirmation"


# Steps only some matters have; every other event applies to every matter.
DIVORCE = "registry.divorce"
MARRIAGE = "registry.marriage"
ONLY_FOR: Mapping[Event, frozenset[str]] = {
    Event.COOLING_OFF_ENDS: frozenset({DIVORCE}),
    Event.CONFIRMATION_OPENS: frozenset({DIVORCE}),
    Event.CONFIRMATION_LAST_DAY: frozenset({DIVORCE}),
    Event.LAPSED: frozenset({DIVORCE}),
}
# Matters with two parties: both are told.
TWO_PARTIES = frozenset({MARRIAGE, DIVORCE})


def applies(event: Event, matter: str) -> bool:
    allowed = ONLY_FOR.get(event)
    return allowed is None or matter in allowed


class Recipient(enum.Enum):
    APPLICANT = "applicant"
    OTHER_PARTY = "other_party"


@dataclass(frozen=True)
class Contact:
    """One person a case's notices go to: the phone as stored (sealed; opened only when the
    message is sent) and what the person asked for at the window."""

    recipient: Recipient
    sealed_phone: str
    language: str
    opted_out: bool


@dataclass(frozen=True)
class Notice:
    """One message to send: to one recipient, about one step of one case, not before
    ``due`` (a calendar notice's morning; acceptance and decisions: at once)."""

    receipt: str
    key: str
    event: Event
    matter: str
    contact: Contact
    # Template arguments: dates, counts, codes and what an officer typed; never personal data.
    args: Mapping[str, str] = field(default_factory=dict)
    due: dt.datetime | None = None


ZH = "zh-CN"
EN = "en"
LANGUAGES = (ZH, EN)


def language_of(preference: case_pb2.NoticePreference) -> str:
    return EN if preference.language.lower().startswith("en") else ZH


# What the home city itself tells the applicant of a case forwarded to it: the steps the
# accepting city does not relay (it relays home's acceptance and decision only), so that the
# applicant hears each step once, and none is lost.
TOLD_AT_HOME = frozenset({Event.MATERIALS_REQUESTED, Event.MATERIALS_RECEIVED})


def contacts(case: case_pb2.Case, event: Event) -> list[Contact]:
    """Who a case's notices of ``event`` go to: the applicant, and the other party of a
    marriage or a divorce; a person without a phone on the case is not reachable and gets
    none. A case another jurisdiction accepted and forwarded here (its ``origin``) goes to
    nobody but for TOLD_AT_HOME: the accepting jurisdiction speaks to its applicant, home's
    acceptance and decision included (its case_progressed), and a second bureau telling those
    again would only confuse."""
    if case.HasField("origin") and event not in TOLD_AT_HOME:
        return []
    people = [(Recipient.APPLICANT, case.applicant.phone, case.applicant.notices)]
    if case.matter_code in TWO_PARTIES:
        party = case.details.other_party
        people.append((Recipient.OTHER_PARTY, party.phone, party.notices))
    return [
        Contact(recipient, phone, language_of(notices), notices.opted_out)
        for recipient, phone, notices in people
        if phone
    ]


def _each(
    case: case_pb2.Case,
    key: str,
    event: Event,
    args: Mapping[str, str],
    due: dt.datetime | None = None,
) -> list[Notice]:
    if not applies(event, case.matter_code):
        return []
    return [
        Notice(case.receipt, key, event, case.matter_code, contact, dict(args), due)
        for contact in contacts(case, event)
    ]


def case_args(case: case_pb2.Case, clock: BureauClock, calendar: LegalCalendar) -> dict[str, str]:
    """What every notice of the case may say: its deadline as a local date, and for a divorce
    its calendar (services.registry.cooling_off, the registry's own reckoning from the
    filing's local date)."""
    args = {"deadline": clock.local_date(case.decision_deadline.ToDatetime(dt.UTC)).isoformat()}
    if case.matter_code == DIVORCE:
        periods = _periods(case, clock, calendar)
        args |= {
            "cooling_off_last_day": periods.cooling_off_last_day.isoformat(),
            "confirmation_first_day": periods.confirmation_first_day.isoformat(),
            "confirmation_last_day": periods.confirmation_last_day.isoformat(),
        }
    return args


def _periods(
    case: case_pb2.Case, clock: BureauClock, calendar: LegalCalendar
) -> cooling_off.DivorcePeriods:
    return cooling_off.periods_of(case.create_time.ToDatetime(dt.UTC), clock, calendar)


def accepted(
    case: case_pb2.Case,
    clock: BureauClock,
    calendar: LegalCalendar,
    morning: dt.time,
    proactive: bool = False,
) -> list[Notice]:
    """On case_accepted: the acceptance (matter, receipt, deadline as a local date) and, for a
    divorce, its calendar: the cooling-off's last day, the first and the last day to confirm,
    each told on the ``morning`` of that day, bureau time. A ``proactive`` case (the bureau
    opened it from a warning) is told only that it waits for the person's confirmation."""
    args = case_args(case, clock, calendar)
    if proactive:
        # Nobody applied: the person is asked to confirm by the case's deadline instead.
        return proactive_awaiting(case, clock.local_date(case.decision_deadline.ToDatetime(dt.UTC)))
    notices = _each(case, "accepted", Event.ACCEPTED, args)
    if case.matter_code != DIVORCE:
        return notices
    periods = _periods(case, clock, calendar)

    def on(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, morning, tzinfo=clock.zone).astimezone(dt.UTC)

    for key, event, day in (
        ("divorce.cooling_off_ends", Event.COOLING_OFF_ENDS, periods.cooling_off_last_day),
        ("divorce.confirmation_opens", Event.CONFIRMATION_OPENS, periods.confirmation_first_day),
        (
            "divorce.confirmation_last_day",
            Event.CONFIRMATION_LAST_DAY,
            periods.confirmation_last_day,
        ),
    ):
        notices += _each(case, key, event, args, on(day))
    return notices


_DECIDED: Mapping[int, Event] = {
    events_pb2.OUTCOME_APPROVED: Event.APPROVED,
    events_pb2.OUTCOME_REJECTED: Event.REJECTED,
    events_pb2.OUTCOME_MATERIALS_REQUESTED: Event.MATERIALS_REQUESTED,
    events_pb2.OUTCOME_LAPSED: Event.LAPSED,
}


def decided(
    event: events_pb2.CaseDecided, case: case_pb2.Case, clock: BureauClock, calendar: LegalCalendar
) -> list[Notice]:
    """On case_decided: approval, rejection (with the officer's reason), a request for
    materials (which ones, as the officer named them) or a divorce's lapse. A party's own
    confirmation or withdrawal was done at the window in person: nobody is told of it."""
    kind = _DECIDED.get(event.outcome)
    if kind is None:
        return []
    args = case_args(case, clock, calendar) | {
        "department": event.department,
        "reason": event.reason,
    }
    if kind is Event.MATERIALS_REQUESTED:
        args["materials"] = event.reason
    return _each(case, f"decided:{event.event_id}", kind, args)


def progressed(
    event: events_pb2.CaseProgressed,
    case: case_pb2.Case,
    clock: BureauClock,
    calendar: LegalCalendar,
) -> list[Notice]:
    """On case_progressed: the materials asked for are handed in, and the clock runs again;
    or, for a case this city forwarded, home accepted it, or home decided it. A forwarded
    case's steps are keyed by the step, not the event: each happens once to a case."""
    args = case_args(case, clock, calendar)
    if event.kind == case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED:
        return _each(case, f"progressed:{event.event_id}", Event.MATERIALS_RECEIVED, args)
    if event.kind == case_pb2.TIMELINE_ENTRY_KIND_FORWARDED:
        return _each(case, "forwarded.accepted_at_home", Event.FORWARDED_ACCEPTED_AT_HOME, args)
    if event.home_status != case_pb2.CASE_STATUS_UNSPECIFIED:
        return _each(case, "forwarded.decided_at_home", Event.FORWARDED_DECIDED_AT_HOME, args)
    return []


def proactive_awaiting(case: case_pb2.Case, confirm_by: dt.date) -> list[Notice]:
    """A proactive case (opened by the bureau, waiting for the person to confirm by
    ``confirm_by``): told on its case_accepted, which says it is proactive."""
    return _each(
        case,
        "proactive.awaiting_confirmation",
        Event.PROACTIVE_AWAITING_CONFIRMATION,
        {"confirm_by": confirm_by.isoformat()},
    )
