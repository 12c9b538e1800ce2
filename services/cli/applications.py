"""The window's commands: submit an application, follow it, find its trace, read the catalog."""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from services.cli import gateway_client, tables
from services.cli.gateway_client import GatewayClient, segment
from services.cli.outcome import CliError, ExitCode, GatewayError, retry_may_help
from services.cli.progress import Progress

# Statuses an application leaves on its own once the router has handled it.
_NOT_YET_ROUTED = {"CASE_STATUS_ACCEPTED", "CASE_STATUS_UNSPECIFIED", ""}


def _read_application(path: str) -> dict[str, Any]:
    try:
        raw = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}", code=ExitCode.USAGE) from None
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise CliError(
            f"{path} is not JSON: {error}",
            code=ExitCode.USAGE,
            hint="the file holds a SubmitApplicationRequest in the proto JSON mapping "
            "(see `onedoor submit --help`)",
        ) from None
    if not isinstance(body, dict):
        raise CliError(f"{path} must hold one JSON object", code=ExitCode.USAGE)
    return body


def _submit(args: argparse.Namespace) -> int:
    body = _read_application(args.file)
    if args.request_id:
        body["requestId"] = args.request_id
    if not body.get("requestId"):
        body["requestId"] = str(uuid.uuid4())
        # On stderr, so stdout stays the result; without it a retry would be a second case.
        print(
            f"request id {body['requestId']} (added; retry with --request-id "
            f"{body['requestId']} to get the same receipt)",
            file=sys.stderr,
        )
    request_id = body["requestId"]
    client = gateway_client.from_args(args)
    try:
        submitted = client.post("/v1/applications", body)
    except CliError as error:
        if retry_may_help(error):
            raise error.with_hint(
                f"{error.hint}; retry with --request-id {request_id}: if the first attempt "
                "was recorded, the same receipt comes back and nothing is stored twice"
            ) from None
        if isinstance(error, GatewayError) and error.http_status == 400:
            raise error.with_hint(
                f"nothing was stored; resolve what is listed above (correct {args.file}, or "
                "hand in what is missing) and submit it again"
            ) from None
        raise
    receipt = str(submitted.get("receipt", ""))
    if not args.wait:
        if args.json:
            tables.emit_json(submitted, sys.stdout)
        else:
            print(_submitted_view(submitted))
        return ExitCode.OK
    if not args.json:
        print(_submitted_view(submitted))
    application = _wait_until_routed(client, receipt, args.wait_seconds)
    if args.json:
        tables.emit_json({"submission": submitted, "application": application}, sys.stdout)
    else:
        print()
        print(application_view(application))
    return ExitCode.OK


def _submitted_view(submitted: dict[str, Any]) -> str:
    return tables.fields(
        [
            ("receipt", submitted.get("receipt")),
            ("status", tables.short(submitted.get("status", ""), "CASE_STATUS_")),
            ("departments", ", ".join(submitted.get("departments") or ()) or "-"),
            ("deadline", tables.moment(submitted.get("decisionDeadline", ""))),
            ("trace id", submitted.get("traceId")),
            (
                "created",
                "yes"
                if submitted.get("created")
                else "no: this request id was seen before; this is the first receipt",
            ),
        ]
    )


def routed(application: dict[str, Any]) -> bool:
    """Whether a --wait is over: the router has opened the department cases (or the case is
    decided), or a forwarded case has reached its home jurisdiction."""
    status = application.get("status", "")
    if status in _NOT_YET_ROUTED:
        return False
    if status == "CASE_STATUS_FORWARDED":
        return (application.get("forwarding") or {}).get("state") == "delivered"
    return True


def _wait_until_routed(client: GatewayClient, receipt: str, limit: float) -> dict[str, Any]:
    progress = Progress()
    started = time.monotonic()
    pause = 0.25
    while True:
        application = get_application(client, receipt)
        status = tables.short(application.get("status", ""), "CASE_STATUS_")
        waited = time.monotonic() - started
        if routed(application):
            progress.done()
            print(f"{receipt}: {status} after {waited:.1f} s", file=sys.stderr)
            return application
        if waited > limit:
            progress.done()
            raise CliError(
                f"{receipt} is still {status} after {limit:.0f} s",
                hint=f"the case is recorded; follow it with `onedoor status {receipt}` "
                "(is the router running?)",
            )
        progress.update(f"{receipt}: {status}, waiting for routing ({waited:.0f} s)")
        time.sleep(pause)
        # Each look is an audited read: back off rather than fill the audit log.
        pause = min(pause * 2, 2.0)


def get_application(client: GatewayClient, receipt: str) -> dict[str, Any]:
    found = client.get(f"/v1/applications/{segment(receipt)}")
    return dict(found.get("application") or {})


def application_view(application: dict[str, Any]) -> str:
    """Status, departments and their progress, deadline, the timeline and, for a forwarded
    case, where it stands at home. Names and identity numbers are shown as the API masks them."""
    overdue = application.get("overdue", False)
    parts = [
        tables.fields(
            [
                ("receipt", application.get("receipt")),
                ("matter", application.get("matterCode")),
                ("status", tables.short(application.get("status", ""), "CASE_STATUS_")),
                (
                    "applicant",
                    " ".join(
                        p
                        for p in (
                            application.get("applicantName", ""),
                            application.get("applicantIdNumber", ""),
                        )
                        if p
                    ),
                ),
                ("hukou", application.get("hukouDivision")),
                ("accepted at", application.get("acceptingDivision")),
                ("accepted", tables.moment(application.get("createTime", ""))),
                (
                    "deadline",
                    tables.moment(application.get("decisionDeadline", ""))
                    + ("  OVERDUE" if overdue else ""),
                ),
                ("overdue", tables.yes(overdue)),
                ("departments", ", ".join(application.get("departments") or ()) or "-"),
                ("trace id", application.get("traceId")),
            ]
        )
    ]
    progress = application.get("progress") or []
    if progress:
        parts.append(
            "progress:\n"
            + _indent(
                tables.table(
                    ["DEPARTMENT", "STATE", "NOTE"],
                    [
                        [
                            p.get("department", ""),
                            # PROGRESS_STATE_OPEN reads OPEN; a state written as a word stays.
                            tables.short(p.get("state", ""), "PROGRESS_STATE_"),
                            said(p),
                        ]
                        for p in progress
                    ],
                    max_width=[None, None, 100],
                )
            )
        )
    parts.append("timeline:\n" + _indent(_timeline(application.get("timeline") or [])))
    forwarding = application.get("forwarding")
    if forwarding:
        parts.append(
            "forwarded to the home jurisdiction:\n"
            + tables.fields(
                [
                    ("home division", forwarding.get("homeDivision")),
                    ("peer", forwarding.get("peer")),
                    ("state", forwarding.get("state")),
                    ("home receipt", forwarding.get("remoteReceipt")),
                    (
                        "home status",
                        tables.short(forwarding.get("remoteStatus", ""), "CASE_STATUS_"),
                    ),
                    ("attempts", forwarding.get("attempts")),
                    ("updated", tables.moment(forwarding.get("updateTime", ""))),
                ],
                indent="  ",
            )
        )
        if forwarding.get("remoteTimeline"):
            parts.append("timeline at home:\n" + _indent(_timeline(forwarding["remoteTimeline"])))
    return "\n".join(parts)


def said(entry: Mapping[str, Any]) -> str:
    """What a timeline entry or a department's progress says, as the gateway rendered it in
    the language asked for; the note of one stored before texts existed."""
    message = entry.get("message") or {}
    return str(message.get("text") or entry.get("note", ""))


def _timeline(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "(nothing yet)"
    return tables.table(
        ["TIME", "KIND", "DEPARTMENT", "NOTE"],
        [
            [
                tables.moment(e.get("createTime", "")),
                tables.short(e.get("kind", ""), "TIMELINE_ENTRY_KIND_"),
                e.get("department") or "window",
                said(e),
            ]
            for e in entries
        ],
        max_width=[None, None, None, 120],
    )


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _status(args: argparse.Namespace) -> int:
    client = gateway_client.from_args(args)
    if args.json:
        tables.emit_json(client.get(f"/v1/applications/{segment(args.receipt)}"), sys.stdout)
        return ExitCode.OK
    print(application_view(get_application(client, args.receipt)))
    return ExitCode.OK


def trace_link(base: str, trace_id: str) -> str:
    return f"{base.rstrip('/')}/trace/{trace_id}" if base and trace_id else ""


def _trace(args: argparse.Namespace) -> int:
    application = get_application(gateway_client.from_args(args), args.receipt)
    base = args.trace_url or ""
    trace_id = str(application.get("traceId", ""))
    steps = [
        {
            "kind": e.get("kind", ""),
            "department": e.get("department", ""),
            "createTime": e.get("createTime", ""),
            "traceId": e.get("traceId", ""),
            "traceUrl": trace_link(base, e.get("traceId", "")),
        }
        for e in application.get("timeline") or []
    ]
    if args.json:
        tables.emit_json(
            {
                "receipt": application.get("receipt", args.receipt),
                "traceId": trace_id,
                "traceUrl": trace_link(base, trace_id),
                "timeline": steps,
            },
            sys.stdout,
        )
        return ExitCode.OK
    print(
        tables.fields(
            [
                ("receipt", application.get("receipt", args.receipt)),
                ("trace id", trace_id or "(none recorded)"),
                ("link", trace_link(base, trace_id)),
            ]
        )
    )
    # Later steps (routing, decisions) ran under their own requests' traces.
    later = [s for s in steps if s["traceId"] and s["traceId"] != trace_id]
    if later:
        print("later steps ran in their own traces:")
        print(
            _indent(
                tables.table(
                    ["TIME", "KIND", "DEPARTMENT", "TRACE"],
                    [
                        [
                            tables.moment(s["createTime"]),
                            tables.short(s["kind"], "TIMELINE_ENTRY_KIND_"),
                            s["department"] or "window",
                            s["traceUrl"] or s["traceId"],
                        ]
                        for s in later
                    ],
                )
            )
        )
    if not base:
        print(
            "set ONEDOOR_TRACE_URL (e.g. http://jaeger:16686) to get links to the trace viewer",
            file=sys.stderr,
        )
    return ExitCode.OK


def _matters(args: argparse.Namespace) -> int:
    found = gateway_client.from_args(args).get("/v1/matters")
    matters = list(found.get("matters") or [])
    if args.code:
        matters = [m for m in matters if m.get("code") == args.code]
        if not matters:
            raise CliError(
                f"no matter {args.code} in the catalog", hint="`onedoor matters` lists them all"
            )
    if args.json:
        tables.emit_json({"matters": matters} if args.code else found, sys.stdout)
        return ExitCode.OK
    if args.code:
        print(_matter_view(matters[0]))
        return ExitCode.OK
    print(
        tables.table(
            ["CODE", "名称", "TITLE", "DEPARTMENTS", "DAYS", "CROSS-JURISDICTION"],
            [
                [
                    m.get("code", ""),
                    m.get("titleZh", ""),
                    m.get("titleEn", ""),
                    ", ".join(m.get("departments") or ()),
                    m.get("timeLimitDays", ""),
                    tables.yes(m.get("crossJurisdiction")),
                ]
                for m in matters
            ],
            max_width=[None, None, 40, None, None, None],
            right=[False, False, False, False, True, False],
        )
    )
    return ExitCode.OK


def _matter_view(matter: dict[str, Any]) -> str:
    summary = tables.fields(
        [
            ("code", f"{matter.get('code', '')} (version {matter.get('version', '')})"),
            ("title", f"{matter.get('titleZh', '')} {matter.get('titleEn', '')}"),
            ("departments", ", ".join(matter.get("departments") or ())),
            ("time limit", f"{matter.get('timeLimitDays', '')} days"),
            ("cross-jurisdiction", tables.yes(matter.get("crossJurisdiction"))),
            ("minimum age", matter.get("minimumAge") or ""),
            ("fields", ", ".join(matter.get("fields") or ())),
        ]
    )
    materials = tables.table(
        ["MATERIAL", "名称", "TITLE"],
        [
            [m.get("code", ""), m.get("titleZh", ""), m.get("titleEn", "")]
            for m in matter.get("requiredMaterials") or []
        ],
    )
    return f"{summary}\nrequired materials:\n{_indent(materials)}"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    submit = commands.add_parser(
        "submit",
        parents=[common],
        formatter_class=raw,
        help="submit an application at the window (clerk)",
        description="Submits a SubmitApplicationRequest written in the proto JSON mapping "
        "(camelCase fields, as in the README's curl example). Without a requestId one is "
        "added and printed on stderr: retry with --request-id to get the same receipt.",
        epilog="""examples:
  onedoor submit dibao.json
  onedoor submit dibao.json --wait           # until the departments have the case
  onedoor submit dibao.json --request-id 5f0c8a52-3c1e-4d7b-9a49-1c2d3e4f5a6b
  onedoor submit - --json < dibao.json | jq -r .receipt""",
    )
    submit.add_argument("file", metavar="FILE.json", help="the application; - reads stdin")
    submit.add_argument("--request-id", help="the submission's id (AIP-155), replacing the file's")
    submit.add_argument(
        "--wait",
        action="store_true",
        help="poll until the case is routed (or decided, or delivered to its home "
        "jurisdiction), with progress on stderr; then show its status",
    )
    submit.add_argument(
        "--wait-seconds",
        type=float,
        default=60.0,
        metavar="S",
        help="give up waiting after S seconds, with exit code 1 (default 60)",
    )
    submit.set_defaults(run=_submit)

    status = commands.add_parser(
        "status",
        parents=[common],
        formatter_class=raw,
        help="an application's status, progress, deadline and timeline",
        description="Shows where an application stands: its status, each deciding "
        "department's progress, the deadline and whether it is overdue, the timeline and, "
        "for a case decided in another jurisdiction, where it stands there. Personal data "
        "is shown masked, as the API returns it. Each look-up is written to the audit log.",
        epilog="""examples:
  onedoor status 320585-8D9TV-YJY6T
  onedoor status 320585-8D9TV-YJY6T --json | jq -r .application.status""",
    )
    status.add_argument("receipt", metavar="RECEIPT")
    status.set_defaults(run=_status)

    trace = commands.add_parser(
        "trace",
        parents=[common],
        formatter_class=raw,
        help="the trace id of an application's submission, with a link",
        description="Prints the trace id of the application's submission and of each later "
        "step on its timeline, with a link to the trace viewer when ONEDOOR_TRACE_URL (or "
        "--trace-url) names one: {url}/trace/{trace id}, as Jaeger's UI serves it. --json "
        "prints {receipt, traceId, traceUrl, timeline: [{kind, department, createTime, "
        "traceId, traceUrl}]}.",
        epilog="""examples:
  onedoor trace 320585-8D9TV-YJY6T
  ONEDOOR_TRACE_URL=http://jaeger:16686 onedoor trace 320585-8D9TV-YJY6T""",
    )
    trace.add_argument("receipt", metavar="RECEIPT")
    trace.add_argument(
        "--trace-url", metavar="URL", help="the trace viewer (default ONEDOOR_TRACE_URL)"
    )
    trace.set_defaults(run=_trace)

    matters = commands.add_parser(
        "matters",
        parents=[common],
        formatter_class=raw,
        help="the catalog of matters the window accepts",
        description="Lists the catalog: each matter's code, title, deciding departments, "
        "legal time limit and whether another jurisdiction's window may accept it. With a "
        "CODE, that matter's required materials and fields.",
        epilog="""examples:
  onedoor matters
  onedoor matters assistance.dibao
  onedoor matters --json | jq -r '.matters[].code'""",
    )
    matters.add_argument(
        "code", nargs="?", metavar="CODE", help="one matter, e.g. registry.marriage"
    )
    matters.set_defaults(run=_matters)
