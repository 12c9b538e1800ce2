"""The ingest service's daily run: on the bureau's calendar, and the retention sweep that
deletes unmatched records once their period is over, proven by its count (kept per day and
jurisdiction, and in the audit log) and by what is gone and what stays."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.department.v1 import known_persons_pb2, known_persons_pb2_grpc
from onedoor.ingest.v1 import ingest_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import auth, keyed_hash
from services.common.clock import BureauClock, fixed
from services.common.identity import compose
from services.common.receipt import receipt_for
from services.ingest.audit_client import IntakeAudit
from services.ingest.daily import AFTER_MIDNIGHT, seconds_until_next_run
from services.ingest.judging import outreach_rules
from services.ingest.outreach import Outreach
from services.ingest.platform_knows import PlatformKnows
from services.ingest.proactive_opening import ProactiveOpening
from services.ingest.retention import RetentionSweep
from services.ingest.warnings_store import WarningsStore
from services.launcher.platform import Platform
from tests.conftest import AddMetadata, bearer, wait_for_entry
from tests.factories import PERSONAL_DATA, Person, application, dibao_json, person
from tests.test_outreach import TAICANG, approved_dibao_household, bill, push

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        # Just after local midnight, before the run: later that night.
        (dt.datetime(2026, 12, 2, 0, 1, tzinfo=SHANGHAI), 4 * 60),
        # At the run's instant: the next day's.
        (dt.datetime(2026, 12, 2, 0, 5, tzinfo=SHANGHAI), 24 * 3600),
        # 23:00 local is 15:00 UTC: an hour and five minutes, whatever the host's zone says.
        (dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC), 3600 + 5 * 60),
    ],
)
def test_the_daily_run_is_on_the_bureaus_calendar(local, expected):
    clock = fixed(local.astimezone(dt.UTC))
    assert seconds_until_next_run(local, clock) == expected
    assert dt.timedelta(minutes=5) == AFTER_MIDNIGHT


def test_what_is_received_before_the_first_kept_day_goes():
    rules = outreach_rules.load()
    clock = fixed(dt.datetime(2027, 6, 15, 4, 0, tzinfo=dt.UTC))
    sweep = RetentionSweep(None, None, clock, rules)  # type: ignore[arg-type]
    days = rules.for_division(TAICANG).unmatched.retention_days
    before = sweep.received_before(TAICANG, dt.date(2027, 6, 15))
    # Received on the first kept day's local midnight: kept (through that day + days).
    assert before.astimezone(clock.zone).time() == dt.time()
    assert before.date() == dt.date(2027, 6, 15) - dt.timedelta(days=days)


@pytest.fixture
async def ingest(platform: Platform) -> AsyncIterator[ingest_service_pb2_grpc.IngestServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.ingest}") as channel:
        yield ingest_service_pb2_grpc.IngestServiceStub(channel)


@pytest.fixture
async def ingest_pool(platform: Platform) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(platform.database_url("ingest"), min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture
async def intake_audit(platform: Platform) -> AsyncIterator[IntakeAudit]:
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{platform.ports.intake}", interceptors=[AddMetadata(auth.service_metadata())]
    ) as channel:
        yield IntakeAudit(intake_service_pb2_grpc.IntakeServiceStub(channel))


async def test_unmatched_records_past_retention_are_deleted_counted_and_audited(
    http, assistance, ingest, ingest_pool, intake_audit, intake_db
):
    members, _ = await approved_dibao_household(http, assistance)
    stranger = bill(person().id_number, 10_000)
    known = bill(members[0], 10_000)
    recent = bill(person().id_number, 10_000)
    await push(ingest, [stranger, known, recent])
    rules = outreach_rules.load()
    days = rules.for_division(TAICANG).unmatched.retention_days
    # As if received a day past the period (the records' dates are the agency's, not this).
    aged = BureauClock().now() - dt.timedelta(days=days + 1)
    await ingest_pool.execute(
        "UPDATE agency_records SET received_at = $1 WHERE record_id = ANY($2::text[])",
        aged,
        [stranger.record_id, known.record_id],
    )
    sweep = RetentionSweep(ingest_pool, intake_audit, BureauClock(), rules)

    swept = {s.jurisdiction: s for s in await sweep.sweep()}
    assert swept[TAICANG].deleted == 1
    left = {
        r["record_id"]
        for r in await ingest_pool.fetch(
            "SELECT record_id FROM agency_records WHERE record_id = ANY($1::text[])",
            [stranger.record_id, known.record_id, recent.record_id],
        )
    }
    # The matched record stays whatever its age; the recent unmatched one is still kept.
    assert left == {known.record_id, recent.record_id}
    counted = await ingest_pool.fetchval(
        "SELECT deleted FROM retention_sweeps WHERE swept_on = $1 AND jurisdiction = $2",
        BureauClock().today(),
        TAICANG,
    )
    assert counted >= 1
    audited = await intake_db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'records.deleted' AND detail LIKE $1",
        f"deleted=% jurisdiction={TAICANG} before={swept[TAICANG].received_before.isoformat()}",
    )
    assert audited >= 1

    # Swept again the same day: nothing more goes, and the count stands.
    again = {s.jurisdiction: s for s in await sweep.sweep()}
    assert again[TAICANG].deleted == 0
    assert (
        await ingest_pool.fetchval(
            "SELECT deleted FROM retention_sweeps WHERE swept_on = $1 AND jurisdiction = $2",
            BureauClock().today(),
            TAICANG,
        )
        == counted
    )


async def test_the_daily_sweep_raises_a_review_due_once(
    platform, http, assistance, ingest_pool, intake_audit, assistance_db
):
    members, receipt = await approved_dibao_household(http, assistance)
    household_file = str(
        await assistance_db.fetchval(
            "SELECT file_id FROM household_members WHERE person_key = $1",
            keyed_hash.person_key(members[0]),
        )
    )
    rules = outreach_rules.load()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.assistance}") as channel:
        knows = PlatformKnows(
            {"assistance": known_persons_pb2_grpc.KnownPersonsServiceStub(channel)}
        )

        def outreach_on(day: dt.date) -> Outreach:
            noon = dt.datetime.combine(day, dt.time(12), tzinfo=BureauClock().zone)
            return Outreach(
                ingest_pool, knows, WarningsStore(ingest_pool), intake_audit, fixed(noon), rules
            )

        today = BureauClock().today()
        await outreach_on(today).reviews_due()
        assert not await raised_for(ingest_pool, household_file)
        # A year and a month on (dibao: once a year), the review is due; a second run adds none.
        later = today + dt.timedelta(days=400)
        await outreach_on(later).reviews_due()
        await outreach_on(later).reviews_due()
    (review,) = await raised_for(ingest_pool, household_file)
    assert review["kind"] == "identification_review"
    assert review["department"] == "assistance" and review["batch_id"] is None
    assert review["source_receipt"] == receipt
    assert json.loads(review["reason"])["code"] == "TEXT_CODE_REVIEW_DUE"

    # The review opened as a case: the window dibao's consent does not carry over to a case
    # nobody applied for, so no economic check is run until the household consents.
    opened = await http.post(
        f"/v1/departments/assistance/warnings/{review['warning_id']}:openCase",
        headers=bearer("officer", department="assistance"),
    )
    assert opened.status == 200, await opened.text()
    proactive = (await opened.json())["warning"]["receipt"]
    await wait_for_entry(http, proactive, "ROUTED")
    held = (await assistance.GetCase(dpb.GetCaseRequest(receipt=proactive))).case
    check = held.assessment.economic_check
    assert not check.performed and check.message.code == case_pb2.TEXT_CODE_NO_CONSENT
    window = (await assistance.GetCase(dpb.GetCaseRequest(receipt=receipt))).case
    assert window.assessment.economic_check.performed


async def raised_for(pool: asyncpg.Pool, household_file: str) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT * FROM warnings WHERE household_file = $1 AND kind = 'identification_review'",
            household_file,
        )
    )


@pytest.fixture
async def assistance_db(platform: Platform) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(platform.database_url("assistance"))
    yield conn
    await conn.close()


async def test_a_judging_that_fails_keeps_the_push_and_is_retried(
    platform, http, assistance, ingest, ingest_pool, intake_audit, assistance_db
):
    from services.common.clock import BureauClock as Clock
    from services.ingest.batch import BatchIntake

    async def unreachable(batch_id: str, trace_id: str) -> None:
        raise grpc.aio.AioRpcError(
            grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), grpc.aio.Metadata()
        )

    # A department down while a batch is judged: the push still answers (its records kept).
    await BatchIntake(None, Clock(), after=unreachable)._after("b", "t")  # type: ignore[arg-type]

    members, _ = await approved_dibao_household(http, assistance)
    household_file = str(
        await assistance_db.fetchval(
            "SELECT file_id FROM household_members WHERE person_key = $1",
            keyed_hash.person_key(members[0]),
        )
    )
    report = await push(ingest, [bill(members[0], 900_000)])
    # As if its judging had been deferred: nothing raised yet, the records unjudged.
    await ingest_pool.execute("DELETE FROM warnings WHERE household_file = $1", household_file)
    await ingest_pool.execute(
        "UPDATE agency_records SET judged_at = NULL, matched_at = NULL WHERE batch_id = $1::uuid",
        report.batch_id,
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.assistance}") as channel:
        knows = PlatformKnows(
            {"assistance": known_persons_pb2_grpc.KnownPersonsServiceStub(channel)}
        )
        outreach = Outreach(
            ingest_pool,
            knows,
            WarningsStore(ingest_pool),
            intake_audit,
            Clock(),
            outreach_rules.load(),
        )
        retried = await outreach.judge_leftovers()
        again = await outreach.judge_leftovers()
    assert retried.records >= 1 and again.records == 0
    raised = await ingest_pool.fetch(
        "SELECT kind, trace_id FROM warnings WHERE household_file = $1", household_file
    )
    assert {r["kind"] for r in raised} == {"illness_poverty_risk", "identification_review"}
    assert {r["trace_id"] for r in raised} == {report.trace_id}


def someone_born_on(born: dt.date) -> Person:
    found = Person(
        name="高龄测试",
        id_number=compose(TAICANG, born, 123),
        phone="13900000000",
    )
    PERSONAL_DATA.update({found.name, found.id_number, found.phone})
    return found


async def test_an_age_milestone_opens_its_case_on_the_birthday_once(
    platform, http, ingest_pool, intake_audit, intake_db
):
    # A senior-card holder who turns 80 in three weeks, on the bureau's calendar.
    turns_80 = BureauClock().today() + dt.timedelta(days=21)
    if (turns_80.month, turns_80.day) == (2, 29):
        turns_80 += dt.timedelta(days=1)
    senior = someone_born_on(turns_80.replace(year=turns_80.year - 80))
    async with http.post(
        "/v1/applications", json=application("elderly.senior_card", senior)
    ) as response:
        assert response.status == 200, await response.text()
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    key = keyed_hash.person_key(senior.id_number)
    rules = outreach_rules.load()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.elderly}") as channel:
        stub = known_persons_pb2_grpc.KnownPersonsServiceStub(channel)
        knows = PlatformKnows({"elderly": stub})

        def outreach_on(day: dt.date) -> Outreach:
            # The bureau's clock on that day (late evening: UTC is still the day before).
            evening = dt.datetime.combine(day, dt.time(23, 30), tzinfo=BureauClock().zone)
            return Outreach(
                ingest_pool, knows, WarningsStore(ingest_pool), intake_audit, fixed(evening), rules
            )

        await outreach_on(turns_80 - dt.timedelta(days=1)).age_milestones()
        assert not await milestones_of(ingest_pool, key)
        await outreach_on(turns_80).age_milestones()
        # Run again that day, and the next (within the catch-up days): still one.
        await outreach_on(turns_80).age_milestones()
        await outreach_on(turns_80 + dt.timedelta(days=1)).age_milestones()

        # The request is checked field by field.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ListPersonsTurning(
                known_persons_pb2.ListPersonsTurningRequest(
                    ages=[0], from_date="2027-02-30", to_date=turns_80.isoformat()
                ),
                metadata=auth.service_metadata(),
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "ages" in (refused.value.details() or "")
    (milestone,) = await milestones_of(ingest_pool, key)
    assert milestone["department"] == "elderly" and milestone["state"] == "NEW"
    assert milestone["matter_code"] == "elderly.age_allowance"
    assert milestone["action"] == "proactive_case" and milestone["batch_id"] is None
    assert milestone["source_receipt"] == receipt
    reason = json.loads(milestone["reason"])
    assert reason["code"] == "TEXT_CODE_AGE_MILESTONE"
    # No identity number crossed: the warning names the person by keyed hash only.
    assert senior.id_number not in json.dumps(dict(milestone), default=str)

    # 免申即享: the bureau opens the age-allowance case itself, naming the senior, and marks
    # the warning with it; run again (the next minute's run), it opens nothing more.
    async with proactive_opening(platform, ingest_pool, intake_audit) as opening:
        # (The platform's own ingest may have opened it first, within its minute.)
        await opening.open_due()
        assert await opening.open_due() == 0
    (marked,) = await milestones_of(ingest_pool, key)
    assert marked["state"] == "CASE_OPENED" and marked["handled_by"] == "service:ingest"
    proactive = marked["receipt"]
    assert proactive and proactive != receipt
    case = await wait_for_entry(http, proactive, "ROUTED")
    assert case["matterCode"] == "elderly.age_allowance"
    assert case["timeline"][0]["message"]["code"] == "TEXT_CODE_OPENED_FROM_WARNING"
    assert case["timeline"][0]["message"]["details"][0]["code"] == "TEXT_CODE_AGE_MILESTONE"
    origin = await intake_db.fetchrow(
        "SELECT receipt, department FROM proactive_origins WHERE warning_id = $1::uuid",
        marked["warning_id"],
    )
    assert (origin["receipt"], origin["department"]) == (proactive, "elderly")
    audited = await intake_db.fetchval(
        "SELECT count(*) FROM audit_log WHERE receipt = $1 AND action = 'case.opened_from_warning'"
        " AND actor = 'service:ingest'",
        proactive,
    )
    assert audited == 1

    # An officer who opens it from the queue as well meets the same case, not a second one.
    officer = bearer("officer", department="elderly", name="赵科员")
    opened = await http.post(
        f"/v1/departments/elderly/warnings/{marked['warning_id']}:openCase", headers=officer
    )
    assert opened.status == 200, await opened.text()
    assert (await opened.json())["warning"]["receipt"] == proactive
    assert (
        await intake_db.fetchval(
            "SELECT count(*) FROM proactive_origins WHERE warning_id = $1::uuid",
            marked["warning_id"],
        )
        == 1
    )


async def test_an_elder_in_a_dibao_household_gets_the_age_allowance_case_in_their_own_name(
    platform, http, ingest_pool, intake_audit
):
    # The dibao's applicant is the daughter; her father, a household member, turns 80.
    turns_80 = BureauClock().today() + dt.timedelta(days=23)
    if (turns_80.month, turns_80.day) == (2, 29):
        turns_80 += dt.timedelta(days=1)
    father = someone_born_on(turns_80.replace(year=turns_80.year - 80))
    body = dibao_json(incomes_fen=(50_000, 0))
    body["householdMembers"][1].update(name=father.name, idNumber=father.id_number, relation="父亲")
    body["details"]["economicCheckConsent"]["memberIdNumbers"][1] = father.id_number
    async with http.post("/v1/applications", json=body) as response:
        assert response.status == 200, await response.text()
        dibao = (await response.json())["receipt"]
    await wait_for_entry(http, dibao, "ROUTED")
    key = keyed_hash.person_key(father.id_number)
    evening = dt.datetime.combine(turns_80, dt.time(23, 30), tzinfo=BureauClock().zone)
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.assistance}") as assistance,
        proactive_opening(platform, ingest_pool, intake_audit) as opening,
    ):
        # Assistance is asked too: elderly care has never seen him.
        knows = PlatformKnows(
            {"assistance": known_persons_pb2_grpc.KnownPersonsServiceStub(assistance)}
        )
        outreach = Outreach(
            ingest_pool,
            knows,
            WarningsStore(ingest_pool),
            intake_audit,
            fixed(evening),
            outreach_rules.load(),
        )
        await outreach.age_milestones()
        (milestone,) = await milestones_of(ingest_pool, key)
        assert milestone["department"] == "elderly" and milestone["source_receipt"] == dibao
        await opening.open_due()
    (opened,) = await milestones_of(ingest_pool, key)
    assert opened["state"] == "CASE_OPENED", dict(opened)
    # The case is his: he is its applicant and its only member, not his daughter.
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{platform.ports.intake}", interceptors=[AddMetadata(auth.service_metadata())]
    ) as channel:
        held = (
            await intake_service_pb2_grpc.IntakeServiceStub(channel).GetCase(
                intake_service_pb2.GetCaseRequest(receipt=opened["receipt"])
            )
        ).case
    assert held.matter_code == "elderly.age_allowance"
    assert held.applicant.id_number == father.id_number
    assert [m.id_number for m in held.household_members] == [father.id_number]
    # Reached through the household's contact line.
    assert held.applicant.phone == body["applicant"]["phone"]
    await wait_for_entry(http, opened["receipt"], "ROUTED")


async def test_a_case_the_bureau_cannot_open_itself_is_left_to_an_officer_and_not_retried(
    platform, ingest_pool, intake_audit
):
    # The case it would name is gone (a receipt no ledger holds).
    gone = receipt_for(TAICANG, str(uuid.uuid4()))
    warning_id = await ingest_pool.fetchval(
        """INSERT INTO warnings (kind, action, department, matter_code, division, reason,
                                 dedup_key, dedup_scope, person_key, source_receipt)
           VALUES ('age_allowance', 'proactive_case', 'elderly', 'elderly.age_allowance', $1,
                   '{"code": "TEXT_CODE_AGE_MILESTONE"}', $2, 'ever', $3, $4)
           RETURNING warning_id""",
        TAICANG,
        f"age_allowance:test:{uuid.uuid4()}",
        "ab" * 16,
        gone,
    )
    async with proactive_opening(platform, ingest_pool, intake_audit) as opening:
        await opening.open_due()
        left = await ingest_pool.fetchrow(
            "SELECT state, opening_refused FROM warnings WHERE warning_id = $1", warning_id
        )
        assert (left["state"], left["opening_refused"]) == ("NEW", "NOT_FOUND")
        # Not among those tried again: the next run passes it by.
        due = await WarningsStore(ingest_pool).to_open_at_once(10_000)
        assert str(warning_id) not in {w.warning_id for w in due}


@contextlib.asynccontextmanager
async def proactive_opening(
    platform: Platform, pool: asyncpg.Pool, audit: IntakeAudit
) -> AsyncIterator[ProactiveOpening]:
    """Ingest's opening of 免申即享 cases, run by the test against the platform's intake."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.intake}") as channel:
        yield ProactiveOpening(
            WarningsStore(pool), intake_service_pb2_grpc.IntakeServiceStub(channel), audit
        )


async def milestones_of(pool: asyncpg.Pool, key: str) -> list[asyncpg.Record]:
    return list(
        await pool.fetch(
            "SELECT * FROM warnings WHERE person_key = $1 AND kind = 'age_allowance'", key
        )
    )
