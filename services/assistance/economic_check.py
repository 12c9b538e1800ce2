"""The household economic-status check (家庭经济状况核对): a port, and the fake bank adapter the
platform ships until a bureau connects its real verification platform (in Suzhou, thirty
commercial banks queried in real time).

The check runs only when the case holds the household's consent, given by a member of the
household, before now, covering every member.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from onedoor.case.v1 import case_pb2
from services.common import identity
from services.common.texts import Code, count, text

# Financial assets per member a household may hold, in months of the local dibao standard.
ASSET_LIMIT_MONTHS = {"dibao": 24, "hardship": 24, "low_income": 36}


class AssetRecords(Protocol):
    """Where the household's financial assets are looked up."""

    @property
    def source(self) -> str: ...

    def assets_fen(self, id_numbers: list[str]) -> int: ...


@dataclass(frozen=True)
class FakeBank:
    """Reads ``{"<identity number>": <assets in fen>, ...}`` from a JSON file on every check,
    so a test (or a training environment) sets what the banks would answer. A missing file
    means no assets anywhere."""

    path: Path | None
    source: str = "fake bank adapter"

    def assets_fen(self, id_numbers: list[str]) -> int:
        if self.path is None or not self.path.exists():
            return 0
        holdings = json.loads(self.path.read_text(encoding="utf-8"))
        return sum(int(holdings.get(identity.normalize(n), 0)) for n in id_numbers)


# The adapters that ship (ECONOMIC_CHECK_ADAPTER): only the fake bank so far.
ADAPTERS = ("fake",)


def connect(adapter: str, fake_file: str = "") -> AssetRecords:
    """The adapter the settings name; the fake bank reads ``fake_file`` (none: no assets)."""
    if adapter != "fake":
        raise ValueError(f"ECONOMIC_CHECK_ADAPTER={adapter!r}: only the fake adapter ships")
    return FakeBank(Path(fake_file) if fake_file else None)


def consent_gap(case: case_pb2.Case, now: dt.datetime) -> case_pb2.Text | None:
    """Why the case's consent does not allow the check, or None when it does."""
    consent = case.details.economic_check_consent
    if not consent.consenting_id_number:
        return text(Code.TEXT_CODE_NO_CONSENT)
    members = {identity.normalize(m.id_number) for m in case.household_members}
    if identity.normalize(consent.consenting_id_number) not in members:
        return text(Code.TEXT_CODE_CONSENT_NOT_BY_MEMBER)
    if not consent.HasField("consent_time") or consent.consent_time.ToDatetime(dt.UTC) > now:
        return text(Code.TEXT_CODE_CONSENT_TIME_INVALID)
    covered = {identity.normalize(n) for n in consent.member_id_numbers}
    if not members <= covered:
        return text(
            Code.TEXT_CODE_CONSENT_PARTIAL,
            covered=count(len(members & covered)),
            members=count(len(members)),
        )
    return None
