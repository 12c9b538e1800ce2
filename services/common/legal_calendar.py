"""The bureau's legal calendar: which days are working days, and where a time limit ends.

Working days follow the State Council's holiday schedule, make-up working days (调休)
included, from the ``chinese-calendar`` package (it carries each year's published schedule,
2004-2026 in the pinned version). A year the package does not know can be supplied by the
bureau as data: ``catalog/calendar/<year>.toml`` beside the catalog, with the year's
holidays and make-up working days as the State Council published them. A year nobody has
supplied is reckoned on weekends alone, and every result that reaches into it says so
(``provisional_years``): a holiday is never silently counted as a working day, and no
application is refused for it.

How periods are counted (《民法典》第二百零一条、第二百零三条, and the Administrative
Licensing Law's art. 82 for working days):
- the day a period starts from (acceptance, filing) is not counted: day 1 is the next day;
- a limit in working days ends on its Nth working day after the start;
- a limit in calendar days ends on the Nth day after the start, and if that day is not a
  working day (a holiday or a weekend not made up), on the first working day after it;
- the last day ends at 24:00, the bureau's local time.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar

SUPPLIED_DIR = Path(__file__).parent / "catalog" / "calendar"


class Unit(enum.Enum):
    WORKING_DAYS = "working"
    CALENDAR_DAYS = "calendar"


@dataclass(frozen=True)
class YearSchedule:
    """One year's schedule: its holidays and its make-up working days (weekend days worked)."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    source: str


@dataclass(frozen=True)
class Reckoning:
    """Where a period ends, and the years it crossed that no schedule covers."""

    last_day: dt.date
    provisional_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)


def _library_schedules() -> dict[int, YearSchedule]:
    years: dict[int, tuple[set[dt.date], set[dt.date]]] = {}
    for day in chinese_calendar.holidays:
        years.setdefault(day.year, (set(), set()))[0].add(day)
    for day in chinese_calendar.workdays:
        years.setdefault(day.year, (set(), set()))[1].add(day)
    return {
        year: YearSchedule(year, frozenset(h), frozenset(w), "chinese-calendar")
        for year, (h, w) in years.items()
    }


def parse_year(text: str, source: str) -> YearSchedule:
    """A bureau-supplied year: ``year = 2027``, ``holidays = [2027-01-01, ...]`` and
    ``workdays = [...]`` (TOML dates), as published by the State Council."""
    data = tomllib.loads(text)
    year = int(data["year"])
    holidays = frozenset(data.get("holidays", ()))
    workdays = frozenset(data.get("workdays", ()))
    for name, days in (("holidays", holidays), ("workdays", workdays)):
        wrong = sorted(str(d) for d in days if not isinstance(d, dt.date) or d.year != year)
        if wrong:
            raise ValueError(f"{source}: {name} must be dates in {year}: {', '.join(wrong)}")
    if holidays & workdays:
        raise ValueError(f"{source}: a day cannot be both a holiday and a working day")
    return YearSchedule(year, holidays, workdays, source)


def supplied_schedules(directory: Path = SUPPLIED_DIR) -> list[YearSchedule]:
    if not directory.is_dir():
        return []
    return [
        parse_year(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(directory.glob("*.toml"))
    ]


@dataclass(frozen=True)
class LegalCalendar:
    schedules: Mapping[int, YearSchedule] = field(default_factory=dict)

    @classmethod
    def with_schedules(cls, supplied: Iterable[YearSchedule] = ()) -> LegalCalendar:
        """The library's years, with the bureau's supplied years over them (a supplied year
        replaces the library's, so a bureau can correct one)."""
        schedules = _library_schedules()
        schedules.update({s.year: s for s in supplied})
        return cls(schedules)

    def covers(self, year: int) -> bool:
        return year in self.schedules

    def uncovered(self, first: dt.date, last: dt.date) -> tuple[int, ...]:
        return tuple(y for y in range(first.year, last.year + 1) if not self.covers(y))

    def is_working_day(self, day: dt.date) -> bool:
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return True
            if day in schedule.holidays:
                return False
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted);
        ``start`` itself for 0."""
        day = start
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def period_end(self, start: dt.date, days: int, unit: Unit) -> Reckoning:
        """The last day of a period of ``days`` counted from the day after ``start``."""
        if days < 0:
            raise ValueError("a period cannot be negative")
        if unit is Unit.WORKING_DAYS:
            last = self.add_working_days(start, days)
        else:
            last = start + dt.timedelta(days=days)
            # Art. 203: a last day that is a legal holiday moves to the day after the holiday.
            if days > 0:
                last = self.next_working_day(last)
        return Reckoning(last, self.uncovered(start, last))

    def periods_end(self, start: dt.date, periods: Iterable[int], unit: Unit) -> Reckoning:
        """Periods that follow one another (each starts the day after the last one ended)."""
        last = start
        for days in periods:
            last = self.period_end(last, days, unit).last_day
        return Reckoning(last, self.uncovered(start, last))

    def days_left(self, today: dt.date, last_day: dt.date, unit: Unit) -> int:
        """Days left until ``last_day`` (today not counted; negative once it has passed)."""
        working = unit is Unit.WORKING_DAYS
        if last_day >= today:
            return (
                self.working_days_between(today, last_day) if working else (last_day - today).days
            )
        return -(self.working_days_between(last_day, today) if working else (today - last_day).days)

    def resumed_last_day(
        self, last_day: dt.date, paused_on: dt.date, resumed_on: dt.date, unit: Unit
    ) -> Reckoning:
        """The last day after a pause from ``paused_on`` to ``resumed_on``: what was left of
        the limit on the day it paused runs again from the day it resumed, in the same unit."""
        if unit is Unit.WORKING_DAYS:
            left = self.working_days_between(paused_on, last_day)
            last = self.add_working_days(resumed_on, left)
        else:
            left = max((last_day - paused_on).days, 0)
            last = self.next_working_day(resumed_on + dt.timedelta(days=left))
        return Reckoning(last, self.uncovered(resumed_on, last))

    def missing_years(self, today: dt.date, horizon_days: int = 120) -> tuple[int, ...]:
        """Years within ``horizon_days`` of today (beyond the longest limit, a divorce's two
        periods) that no schedule covers: a start-up warning names them, since deadlines
        running into them are provisional."""
        return self.uncovered(today, today + dt.timedelta(days=horizon_days))


@functools.cache
def load() -> LegalCalendar:
    """The library's schedules with the bureau's supplied years (read once per process)."""
    return LegalCalendar.with_schedules(supplied_schedules())


def warn_missing(log: logging.Logger, calendar: LegalCalendar, today: dt.date) -> None:
    """A start-up warning for every year ahead that no schedule covers, naming what to do."""
    for year in calendar.missing_years(today):
        log.warning(
            "the legal calendar has no holiday schedule for %d: deadlines running into %d are "
            "counted on weekends alone and marked provisional; supply the State Council's "
            "schedule as %s/%d.toml",
            year,
            year,
            SUPPLIED_DIR,
            year,
        )
