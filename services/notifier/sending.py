"""One send: a leased record's phone opened, its text rendered, the provider asked, and the
record moved by the answer (sent; tried again after a back-off, never into quiet hours; or
given up). Counted by event and outcome; logged by receipt and cause, never by phone or text.
No nameko: the service calls it from its timer, the tests call it directly."""

from __future__ import annotations

import datetime as dt
import enum
import logging

from services.common import metric_catalog, personal_data
from services.common.clock import BureauClock
from services.common.metric_catalog import NOTIFIER_MESSAGES, NOTIFIER_PROVIDER_ANSWERS
from services.notifier import templates, timing
from services.notifier.notices import Contact, Event, Notice, Recipient
from services.notifier.provider import Message, Provider, Verdict
from services.notifier.store import Claimed, SendRecords

log = logging.getLogger(__name__)

_messages = metric_catalog.counter(NOTIFIER_MESSAGES)
_answers = metric_catalog.counter(NOTIFIER_PROVIDER_ANSWERS)


class Result(enum.Enum):
    SENT = "sent"
    RETRIED = "retried"
    FAILED = "failed"
    # Leased in quiet hours (a retry's lease outliving 22:00): back to the morning, untried.
    DEFERRED = "deferred"


def counted_opt_outs(notices: list[Notice], new: int) -> None:
    if new:
        for notice in notices:
            if notice.contact.opted_out:
                _messages.add(1, {"event": notice.event.value, "outcome": "opted_out"})


def text_of(claimed: Claimed, sender: templates.Sender) -> str:
    notice = Notice(
        receipt=claimed.receipt,
        key=claimed.notice_key,
        event=Event(claimed.event),
        matter=claimed.matter_code,
        contact=Contact(Recipient(claimed.recipient), "", claimed.language, False),
        args=claimed.args,
    )
    return templates.render(notice, sender)


def deliver(
    claimed: Claimed,
    provider: Provider,
    records: SendRecords,
    clock: BureauClock,
    sender: templates.Sender,
) -> Result:
    now = clock.now()
    if timing.is_quiet(now, clock):
        records.retry(claimed, timing.not_before(now, clock), "quiet_hours")
        return Result.DEFERRED
    # Opened here, for this request only: the clear number lives in this frame and the
    # provider's request, nowhere else (no log, span, record or error carries it).
    message = Message(
        claimed.idempotency_key,
        personal_data.unseal(claimed.sealed_phone),
        text_of(claimed, sender),
    )
    outcome = provider.send(message)
    del message
    _answers.add(1, {"provider": provider.name, "cause": outcome.cause})
    event = claimed.event
    if outcome.verdict is Verdict.SENT:
        records.sent(claimed, clock.now(), outcome.provider_id)
        _messages.add(1, {"event": event, "outcome": "sent"})
        log.info("sent %s to the %s (%s)", event, claimed.recipient, outcome.cause)
        return Result.SENT
    if outcome.verdict is Verdict.RETRY and claimed.attempts < timing.MAX_ATTEMPTS:
        at = timing.next_attempt(clock.now(), claimed.attempts, clock, outcome.retry_after_seconds)
        records.retry(claimed, at, outcome.cause)
        _messages.add(1, {"event": event, "outcome": "retried"})
        log.warning(
            "%s to the %s not sent (%s, attempt %d); tries again at %s",
            event,
            claimed.recipient,
            outcome.cause,
            claimed.attempts,
            clock.local(at).isoformat(timespec="seconds"),
        )
        return Result.RETRIED
    records.failed(claimed, outcome.cause)
    _messages.add(1, {"event": event, "outcome": "failed"})
    log.error(
        "gave up %s to the %s after %d attempts (%s)",
        event,
        claimed.recipient,
        claimed.attempts,
        outcome.cause,
    )
    return Result.FAILED


def due_now(clock: BureauClock) -> dt.datetime:
    """When a notice recorded now may first go: now, or the next morning in quiet hours."""
    return timing.not_before(clock.now(), clock)
