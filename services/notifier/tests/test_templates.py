"""Every event of every matter has its message in every language, and each template names
only what the notices carry."""

from __future__ import annotations

import re

import pytest

from services.common import catalog
from services.notifier import templates
from services.notifier.notices import (
    LANGUAGES,
    ZH,
    Contact,
    Event,
    Notice,
    Recipient,
    applies,
)

SENDER = templates.Sender(
    {"zh-CN": "太仓市民政局", "en": "Taicang Civil Affairs"},
    {"zh-CN": "太仓市人民政府", "en": "Taicang's government"},
)
ARGS = {
    "deadline": "2027-01-13",
    "cooling_off_last_day": "2027-01-04",
    "confirmation_first_day": "2027-01-05",
    "confirmation_last_day": "2027-02-03",
    "confirm_by": "2027-01-20",
    "department": "assistance",
    "reason": "收入超过标准",
    "materials": "收入证明",
}


def _matters() -> list[str]:
    return sorted({code for code, _ in catalog.load().versions})


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event", list(Event))
def test_every_event_of_every_matter_has_a_template(event: Event, language: str) -> None:
    matters = [m for m in _matters() if applies(event, m)]
    assert matters, f"{event} applies to no matter"
    for matter in matters:
        notice = Notice(
            "320585-288FB-8RAEW",
            "k",
            event,
            matter,
            Contact(Recipient.APPLICANT, "", language, False),
            ARGS,
        )
        text = templates.render(notice, SENDER)
        assert "320585-*****-8RAEW" in text
        assert "288FB" not in text
        if language == ZH:
            # No English words on a Chinese message (the masked receipt aside).
            assert not re.search(r"[A-Za-z]{2,}", text.replace("8RAEW", "")), text


def test_the_templates_name_no_personal_data() -> None:
    loaded = templates.load()
    allowed = set(ARGS) | {"bureau", "review", "matter", "receipt"}
    for language, events in loaded.by_language.items():
        assert set(events) == {e.value for e in Event}, language
        for entries in events.values():
            for template in entries.values():
                assert templates.placeholders(template) <= allowed, template


def test_english_dates_and_chinese_dates() -> None:
    notice = Notice(
        "320585-288FB-8RAEW",
        "accepted",
        Event.ACCEPTED,
        "assistance.dibao",
        Contact(Recipient.APPLICANT, "", "en", False),
        {"deadline": "2027-01-13"},
    )
    assert "13 January 2027" in templates.render(notice, SENDER)
    zh = Notice(**{**notice.__dict__, "contact": Contact(Recipient.APPLICANT, "", ZH, False)})
    text = templates.render(zh, SENDER)
    assert "2027年1月13日" in text and "最低生活保障" in text and "太仓市民政局" in text


def test_a_missing_template_is_an_error() -> None:
    notice = Notice(
        "320585-288FB-8RAEW",
        "k",
        Event.COOLING_OFF_ENDS,
        "assistance.dibao",
        Contact(Recipient.APPLICANT, "", ZH, False),
        ARGS,
    )
    with pytest.raises(templates.MissingTemplate):
        templates.render(notice, SENDER)
