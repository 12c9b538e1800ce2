"""A department's work: its queue of cases, and an officer's decisions."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Iterable
from typing import Any

from services.cli import credentials, gateway_client, tables
from services.cli.gateway_client import GatewayClient, segment
from services.cli.outcome import CliError, ExitCode, retry_may_help
from services.common.catalog import DEPARTMENTS

DECISIONS = {
    "approve": "DECISION_APPROVE",
    "reject": "DECISION_REJECT",
    "request-materials": "DECISION_REQUEST_MATERIALS",
}


def _role_and_department(args: argparse.Namespace) -> tuple[str, str]:
    claimed = credentials.claims(credentials.bearer_token(args.token))
    return str(claimed.get("role", "")), str(claimed.get("department", ""))


def _listing(
    client: GatewayClient, path: str, params: dict[str, str], key: str, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], str]:
    """The first page, or with --all every page; and the token of the page after."""
    items: list[dict[str, Any]] = []
    for page in client.pages(path, params, args.page_token or ""):
        items += page.get(key) or []
        following = str(page.get("nextPageToken", ""))
        if not args.all:
            return items, following
    return items, ""


def _cases(args: argparse.Namespace) -> int:
    client = gateway_client.from_args(args)
    role, own = _role_and_department(args)
    department = args.department or (own if role == "officer" else "")
    params = {"pageSize": str(args.page_size) if args.page_size else ""}
    # An officer's queue comes from the department itself (its state and assessment); only the
    # window's list knows deadlines, so --overdue and clerks use that one.
    if role == "officer" and not args.overdue and not args.work_list:
        if not department:
            raise CliError(
                "the token names no department", code=ExitCode.USAGE, hint="pass --department"
            )
        path, key = f"/v1/departments/{segment(department)}/cases", "cases"
    else:
        path, key = "/v1/applications", "applications"
        params |= {
            "department": department,
            "overdue": "true" if args.overdue else "",
            "dueWithinDays": str(args.due_within_days) if args.due_within_days else "",
            "workList": args.work_list or "",
        }
    items, following = _listing(client, path, params, key, args)
    if args.json:
        tables.emit_json({key: items, "nextPageToken": following}, sys.stdout)
        return ExitCode.OK
    if not items:
        print("no cases" + (" past or near their deadline" if args.overdue else ""))
    elif key == "cases":
        print(_queue_table(items))
    else:
        print(applications_table(items))
    if following:
        print(f"more: --page-token {following} (or --all)", file=sys.stderr)
    return ExitCode.OK


def _queue_table(cases: Iterable[dict[str, Any]]) -> str:
    return tables.table(
        ["RECEIPT", "MATTER", "STATE", "ELIGIBLE", "DEADLINE", "HUKOU", "ASSESSMENT"],
        [
            [
                c.get("receipt", ""),
                c.get("matterCode", ""),
                tables.short(c.get("state", ""), "CASE_STATE_"),
                tables.yes((c.get("assessment") or {}).get("eligible")),
                tables.moment(c.get("decisionDeadline", "")),
                c.get("hukouDivision", ""),
                (c.get("assessment") or {}).get("reason", ""),
            ]
            for c in cases
        ],
        max_width=[None, None, None, None, None, None, 70],
    )


def applications_table(applications: Iterable[dict[str, Any]]) -> str:
    return tables.table(
        ["RECEIPT", "MATTER", "STATUS", "DEPARTMENTS", "APPLICANT", "DEADLINE", "OVERDUE"],
        [
            [
                a.get("receipt", ""),
                a.get("matterCode", ""),
                tables.short(a.get("status", ""), "CASE_STATUS_"),
                ", ".join(a.get("departments") or ()),
                # Masked by the API ("周**").
                a.get("applicantName", ""),
                tables.moment(a.get("decisionDeadline", "")),
                tables.yes(a.get("overdue")),
            ]
            for a in applications
        ],
    )


def decision_body(
    decision: str, reason: str, materials: list[str], request_id: str
) -> dict[str, str]:
    """The DecideCaseRequest body; the reason is what the timeline shows the applicant, so the
    materials asked for are spelled out in it."""
    if decision == "reject" and not reason:
        raise CliError("a rejection needs a reason", code=ExitCode.USAGE, hint='add --reason "..."')
    if decision == "request-materials":
        if not (reason or materials):
            raise CliError(
                "say which materials are needed",
                code=ExitCode.USAGE,
                hint="add --materials income_proof,bank_statement and/or --reason",
            )
        if materials:
            wanted = "materials needed: " + ", ".join(materials)
            reason = f"{reason}; {wanted}" if reason else wanted
    elif materials:
        raise CliError("--materials goes with request-materials", code=ExitCode.USAGE)
    body = {"requestId": request_id, "decision": DECISIONS[decision]}
    if reason:
        body["reason"] = reason
    return body


def _decide(args: argparse.Namespace) -> int:
    _, own = _role_and_department(args)
    department = args.department or own
    if not department:
        raise CliError(
            "which department decides?",
            code=ExitCode.USAGE,
            hint="pass --department, or use an officer's token "
            "(`onedoor token --role officer --department assistance --jurisdiction 320585`)",
        )
    materials = [m.strip() for m in (args.materials or "").split(",") if m.strip()]
    request_id = args.request_id or str(uuid.uuid4())
    body = decision_body(args.decision, (args.reason or "").strip(), materials, request_id)
    if not args.request_id:
        print(f"request id {request_id} (retry with --request-id {request_id})", file=sys.stderr)
    path = f"/v1/departments/{segment(department)}/cases/{segment(args.receipt)}:decide"
    try:
        decided = gateway_client.from_args(args).post(path, body)
    except CliError as error:
        if retry_may_help(error):
            error.hint += f"; retry with --request-id {request_id}, which decides at most once"
        raise
    if args.json:
        tables.emit_json(decided, sys.stdout)
        return ExitCode.OK
    case = decided.get("case") or {}
    print(
        tables.fields(
            [
                ("receipt", case.get("receipt", args.receipt)),
                ("department", case.get("department", department)),
                ("state", tables.short(case.get("state", ""), "CASE_STATE_")),
                ("reason", case.get("decisionReason")),
                ("assessment", (case.get("assessment") or {}).get("reason")),
            ]
        )
    )
    print(
        f"the timeline shows it once routed: onedoor status {case.get('receipt', args.receipt)}",
        file=sys.stderr,
    )
    return ExitCode.OK


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    cases = commands.add_parser(
        "cases",
        parents=[common],
        formatter_class=raw,
        help="a department's cases (officer queue, or the window's list)",
        description="""Lists cases, choosing the API by the token's role:
  officer   the department's own queue (GET /v1/departments/{d}/cases): its open
            cases, oldest first, with the state and the rules' assessment. The
            department defaults to the token's.
  clerk     the window's list (GET /v1/applications?department=): applications
            accepted in the jurisdiction, with status and deadline.
With --overdue both use the window's list, which alone knows deadlines: cases past
their deadline or due within --due-within-days (default 3). Listed cases are written
to the audit log.""",
        epilog="""examples:
  onedoor cases                                   # an officer's queue
  onedoor cases --department assistance --overdue
  onedoor cases --work-list awaiting_materials    # a clerk's materials to chase
  onedoor cases --all --json | jq -r '.cases[].receipt'""",
    )
    cases.add_argument("--department", choices=DEPARTMENTS)
    cases.add_argument("--overdue", action="store_true", help="only past or near the deadline")
    cases.add_argument("--due-within-days", type=int, metavar="N", help="with --overdue")
    cases.add_argument(
        "--work-list",
        choices=("today", "awaiting_materials", "due_soon", "overdue"),
        help="one of the window's work lists (the window's list)",
    )
    cases.add_argument("--page-size", type=int, metavar="N", help="at most 200 (default 50)")
    cases.add_argument("--page-token", metavar="T", help="continue where a listing stopped")
    cases.add_argument("--all", action="store_true", help="every page")
    cases.set_defaults(run=_cases)

    decide = commands.add_parser(
        "decide",
        parents=[common],
        formatter_class=raw,
        help="approve, reject or ask for materials (officer)",
        description="Records an officer's decision on a case. The department defaults to the "
        "officer token's; the decision is recorded as the token's holder. A request id is "
        "generated (printed on stderr) unless given, so a retry decides at most once. A "
        "rejection needs --reason; a request for materials --materials (the matter's material "
        "codes, see `onedoor matters CODE`) or --reason; both are shown on the timeline.",
        epilog="""examples:
  onedoor decide 320585-8D9TV-YJY6T approve
  onedoor decide 320585-8D9TV-YJY6T reject --reason "income above the standard"
  onedoor decide 320585-8D9TV-YJY6T request-materials --materials income_proof,hukou_booklet""",
    )
    decide.add_argument("receipt", metavar="RECEIPT")
    decide.add_argument("decision", choices=list(DECISIONS))
    decide.add_argument("--reason", help="shown on the timeline; never personal data")
    decide.add_argument("--materials", metavar="A,B", help="with request-materials")
    decide.add_argument("--department", choices=DEPARTMENTS)
    decide.add_argument("--request-id", help="reuse to retry safely")
    decide.set_defaults(run=_decide)
