"""What the platform knows of the persons a batch names, asked of the departments that know
(KnownPersonsService on assistance and elderly, each from its own tables), a chunk of keyed
hashes per call, and merged into the judging's Person and Household; and who turns an age on
the days the daily sweep asks about, with the birth date the department read from the sealed
identity number (the number itself never leaves it)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from onedoor.department.v1 import known_persons_pb2 as pb
from onedoor.department.v1 import known_persons_pb2_grpc
from services.common import auth
from services.ingest.judging.household import (
    Benefit,
    Household,
    Identification,
    Identified,
    Person,
)
from services.ingest.judging.records import PersonKey

# The departments that hold something for persons (a benefit, a card, a household file).
ASKED = ("assistance", "elderly")
# Keys per call (the departments' MAX_KEYS).
KEYS_PER_CALL = 1000

_BENEFITS = {b.value for b in Benefit}
_IDENTIFICATIONS = {i.value for i in Identification}


@dataclass(frozen=True)
class Turning:
    """Persons reaching an age in the days asked, as the judging sees them (birth date set),
    and per person key the latest case of theirs (whom a case opened from it names)."""

    persons: tuple[Person, ...]
    receipts: dict[str, str]


@dataclass(frozen=True)
class Known:
    persons: dict[PersonKey, Person]
    households: dict[str, Household]
    # Per household file, its latest case's receipt (whom a proactive case names).
    receipts: dict[str, str]


def _day(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def merge(answers: Sequence[pb.LookupPersonsResponse]) -> Known:
    """One Person per key from every department's answer: the matters each holds together,
    the household file and the death assistance records, the first division given."""
    divisions: dict[str, str] = {}
    files: dict[str, str] = {}
    held: dict[str, set[Benefit]] = {}
    died: dict[str, dt.date] = {}
    households: dict[str, Household] = {}
    receipts: dict[str, str] = {}
    for answer in answers:
        for found in answer.persons:
            key = found.person_key
            if found.hukou_division and key not in divisions:
                divisions[key] = found.hukou_division
            if found.household_file:
                files.setdefault(key, found.household_file)
            held.setdefault(key, set()).update(
                Benefit(m) for m in found.held_matters if m in _BENEFITS
            )
            if (day := _day(found.died_on)) is not None:
                died.setdefault(key, day)
        for file in answer.household_files:
            if file.latest_receipt:
                receipts[file.file_id] = file.latest_receipt
            income = file.annual_income_fen if file.HasField("annual_income_fen") else None
            households[file.file_id] = Household(
                file_id=file.file_id,
                division=file.division,
                members=frozenset(PersonKey.from_hex(k) for k in file.member_keys),
                annual_income_fen=income,
                identified=tuple(
                    Identified(
                        Identification(i.matter_code),
                        dt.date.fromisoformat(i.since),
                        _day(i.last_reviewed_on),
                    )
                    for i in file.identified
                    if i.matter_code in _IDENTIFICATIONS
                ),
            )
    persons = {}
    for key, division in divisions.items():
        person = PersonKey.from_hex(key)
        persons[person] = Person(
            key=person,
            born_on=None,
            division=division,
            household_file=files.get(key),
            benefits=frozenset(held.get(key, ())),
            died_on=died.get(key),
        )
    return Known(persons, households, receipts)


class PlatformKnows:
    """Asks the departments, never their databases."""

    def __init__(self, stubs: Mapping[str, known_persons_pb2_grpc.KnownPersonsServiceStub]):
        self.stubs = stubs

    async def lookup(self, person_keys: Sequence[str]) -> Known:
        keys = list(dict.fromkeys(person_keys))
        chunks = [keys[i : i + KEYS_PER_CALL] for i in range(0, len(keys), KEYS_PER_CALL)]
        calls = [
            stub.LookupPersons(
                pb.LookupPersonsRequest(person_keys=chunk),
                metadata=auth.service_metadata(),
                timeout=30,
            )
            for stub in self.stubs.values()
            for chunk in chunks
        ]
        return merge(await asyncio.gather(*calls))

    async def identified_households(self, page_size: int = 500) -> AsyncIterator[Known]:
        """Every identified household file the departments keep, a page at a time."""
        for stub in self.stubs.values():
            token = ""
            while True:
                page = await stub.ListIdentifiedHouseholds(
                    pb.ListIdentifiedHouseholdsRequest(page_size=page_size, page_token=token),
                    metadata=auth.service_metadata(),
                    timeout=30,
                )
                if page.household_files:
                    yield merge([pb.LookupPersonsResponse(household_files=page.household_files)])
                token = page.next_page_token
                if not token:
                    break

    async def persons_turning(
        self, ages: Sequence[int], first: dt.date, last: dt.date, page_size: int = 500
    ) -> AsyncIterator[Turning]:
        """Every person a department knows who reaches one of ``ages`` from ``first`` to
        ``last``, a page at a time, with what the departments know of them besides (benefits,
        household file, a death recorded) merged in."""
        for stub in self.stubs.values():
            token = ""
            while True:
                page = await stub.ListPersonsTurning(
                    pb.ListPersonsTurningRequest(
                        ages=list(ages),
                        from_date=first.isoformat(),
                        to_date=last.isoformat(),
                        page_size=page_size,
                        page_token=token,
                    ),
                    metadata=auth.service_metadata(),
                    timeout=60,
                )
                if page.persons:
                    yield await self._turning(page.persons)
                token = page.next_page_token
                if not token:
                    break

    async def _turning(self, found: Sequence[pb.PersonTurning]) -> Turning:
        known = await self.lookup([t.person.person_key for t in found])
        persons = []
        for t in found:
            key = PersonKey.from_hex(t.person.person_key)
            held = known.persons.get(key)
            persons.append(
                Person(
                    key=key,
                    born_on=dt.date.fromisoformat(t.born_on),
                    division=held.division if held else t.person.hukou_division,
                    household_file=held.household_file if held else None,
                    benefits=held.benefits if held else frozenset(),
                    died_on=held.died_on if held else None,
                )
            )
        receipts = {t.person.person_key: t.latest_receipt for t in found if t.latest_receipt}
        return Turning(tuple(persons), receipts)
