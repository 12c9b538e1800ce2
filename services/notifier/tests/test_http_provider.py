"""The HTTP adapter against a local provider: signed requests, answers mapped to sent, retry
or give up, a timeout taken for a retry, and no phone or text in what it returns."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.notifier.provider import HttpProvider, Message, Verdict, classify
from services.notifier.tests.local_provider import ACCOUNT, SECRET, LocalProvider

PHONE = "13912345678"


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    local = LocalProvider()
    local.start()
    yield local
    local.stop()


def adapter(local: LocalProvider, secret: str = SECRET, timeout: float = 1.0) -> HttpProvider:
    return HttpProvider(local.url, ACCOUNT, secret, "太仓市民政局", timeout_seconds=timeout)


def message(key: str = "320585-288FB-8RAEW/accepted/applicant") -> Message:
    return Message(key, PHONE, "【太仓市民政局】您的申请已受理")


def test_accepted_once_per_idempotency_key(provider: LocalProvider) -> None:
    first = adapter(provider).send(message())
    again = adapter(provider).send(message())
    assert (first.verdict, first.cause) == (Verdict.SENT, "accepted")
    assert (again.verdict, again.cause) == (Verdict.SENT, "duplicate")
    assert len(provider.delivered) == 1
    assert provider.delivered[message().idempotency_key].to == PHONE
    assert PHONE not in repr(first) and PHONE not in repr(again)


def test_rate_limited_and_server_errors_are_retried(provider: LocalProvider) -> None:
    provider.script.extend([429, 503])
    limited = adapter(provider).send(message())
    assert (limited.verdict, limited.cause, limited.retry_after_seconds) == (
        Verdict.RETRY,
        "rate_limited",
        0.0,
    )
    failing = adapter(provider).send(message())
    assert (failing.verdict, failing.cause) == (Verdict.RETRY, "provider_error")
    assert adapter(provider).send(message()).verdict is Verdict.SENT
    assert len(provider.delivered) == 1


def test_a_provider_that_hangs_is_a_timeout_to_retry(provider: LocalProvider) -> None:
    provider.script.append("hang")
    outcome = adapter(provider, timeout=0.3).send(message())
    assert (outcome.verdict, outcome.cause) == (Verdict.RETRY, "timeout")


def test_wrong_credentials_are_given_up(provider: LocalProvider) -> None:
    outcome = adapter(provider, secret="not-the-secret").send(message())
    assert (outcome.verdict, outcome.cause) == (Verdict.GIVE_UP, "credentials_refused")
    assert provider.bad_signatures == 1 and not provider.delivered


def test_an_unreachable_provider_is_retried() -> None:
    local = LocalProvider()
    local.start()
    url = local.url
    local.stop()
    outcome = HttpProvider(url, ACCOUNT, SECRET, "x", timeout_seconds=0.5).send(message())
    assert (outcome.verdict, outcome.cause) == (Verdict.RETRY, "unreachable")


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.SENT),
        (202, Verdict.SENT),
        (409, Verdict.SENT),
        (400, Verdict.GIVE_UP),
        (422, Verdict.GIVE_UP),
        (403, Verdict.GIVE_UP),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (418, Verdict.GIVE_UP),
    ],
)
def test_answers_mapped(status: int, verdict: Verdict) -> None:
    assert classify(status).verdict is verdict
