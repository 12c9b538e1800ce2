"""``onedoor warnings``: a department's warnings queue, what other agencies' records raised
(GET /v1/departments/{d}/warnings), for its officers to contact, open a case from, or dismiss
with a reason."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any

from services.cli import credentials, gateway_client, tables
from services.cli.gateway_client import segment
from services.cli.outcome import CliError, ExitCode
from services.common.catalog import DEPARTMENTS

STATES = ("new", "contacted", "case_opened", "dismissed")


def _department(args: argparse.Namespace) -> str:
    claimed = credentials.claims(credentials.bearer_token(args.token))
    department = args.department or str(claimed.get("department", ""))
    if not department:
        raise CliError(
            "which department's warnings?",
            code=ExitCode.USAGE,
            hint="pass --department, or use an officer's token "
            "(`onedoor token --role officer --department assistance --jurisdiction 320585`)",
        )
    return department


def _path(args: argparse.Namespace, action: str = "") -> str:
    base = f"/v1/departments/{segment(_department(args))}/warnings"
    return f"{base}/{segment(args.warning_id)}:{action}" if action else base


def warnings_table(warnings: Iterable[dict[str, Any]]) -> str:
    return tables.table(
        ["WARNING", "KIND", "STATE", "HOUSEHOLD FILE", "RAISED", "REASON"],
        [
            [
                w.get("warningId", ""),
                tables.short(w.get("kind", ""), "WARNING_KIND_"),
                tables.short(w.get("state", ""), "WARNING_STATE_"),
                w.get("householdFile", ""),
                tables.moment(w.get("createTime", "")),
                (w.get("reason") or {}).get("text", ""),
            ]
            for w in warnings
        ],
        max_width=[None, None, None, None, None, 70],
    )


def _list(args: argparse.Namespace) -> int:
    client = gateway_client.from_args(args)
    params = {
        "state": args.state or "",
        "pageSize": str(args.page_size) if args.page_size else "",
    }
    items: list[dict[str, Any]] = []
    following = ""
    for page in client.pages(_path(args), params, args.page_token or ""):
        items += page.get("warnings") or []
        following = str(page.get("nextPageToken", ""))
        if not args.all:
            break
    else:
        following = ""
    if args.json:
        tables.emit_json({"warnings": items, "nextPageToken": following}, sys.stdout)
        return ExitCode.OK
    print(warnings_table(items) if items else "no warnings")
    if following:
        print(f"more: --page-token {following} (or --all)", file=sys.stderr)
    return ExitCode.OK


def _show(args: argparse.Namespace, answer: dict[str, Any]) -> int:
    if args.json:
        tables.emit_json(answer, sys.stdout)
        return ExitCode.OK
    warning = answer.get("warning") or {}
    print(
        tables.fields(
            [
                ("warning", warning.get("warningId", "")),
                ("state", tables.short(warning.get("state", ""), "WARNING_STATE_")),
                ("household file", warning.get("householdFile")),
                ("reason", (warning.get("reason") or {}).get("text")),
                ("dismissed because", warning.get("dismissReason")),
                ("case", warning.get("receipt")),
            ]
        )
    )
    return ExitCode.OK


def _contact(args: argparse.Namespace) -> int:
    return _show(args, gateway_client.from_args(args).post(_path(args, "contact"), {}))


def _open_case(args: argparse.Namespace) -> int:
    answer = gateway_client.from_args(args).post(_path(args, "openCase"), {})
    receipt = (answer.get("warning") or {}).get("receipt", "")
    if receipt and not args.json:
        print(f"follow it: onedoor status {receipt}", file=sys.stderr)
    return _show(args, answer)


def _dismiss(args: argparse.Namespace) -> int:
    reason = (args.reason or "").strip()
    if not reason:
        raise CliError("a dismissal needs a reason", code=ExitCode.USAGE, hint='add --reason "..."')
    answer = gateway_client.from_args(args).post(_path(args, "dismiss"), {"reason": reason})
    return _show(args, answer)


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    top = commands.add_parser(
        "warnings",
        parents=[common],
        formatter_class=raw,
        help="a department's warnings from other agencies' records (officer)",
        description="A department's warnings queue: what the outreach rules raised from "
        "records other agencies pushed (illness-poverty risk, a beneficiary's death, a "
        "disability grade change, a review due). The department defaults to the officer "
        "token's. Every warning listed or moved is written to the audit log.",
        epilog="""examples:
  onedoor warnings list --state new
  onedoor warnings contact 0b6c3f0e-5d1a-4e47-9a55-4a1d2f7f9c10
  onedoor warnings open-case 0b6c3f0e-5d1a-4e47-9a55-4a1d2f7f9c10
  onedoor warnings dismiss 0b6c3f0e-5d1a-4e47-9a55-4a1d2f7f9c10 --reason "已核实，无需救助\"""",
    )
    actions = top.add_subparsers(dest="warnings_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", parents=[common], help="the queue, newest first")
    listing.add_argument("--department", choices=DEPARTMENTS)
    listing.add_argument("--state", choices=STATES)
    listing.add_argument("--page-size", type=int, metavar="N", help="at most 200 (default 50)")
    listing.add_argument("--page-token", metavar="T", help="continue where a listing stopped")
    listing.add_argument("--all", action="store_true", help="every page")
    listing.set_defaults(run=_list)

    contact = actions.add_parser("contact", parents=[common], help="mark it contacted")
    contact.add_argument("warning_id", metavar="WARNING")
    contact.add_argument("--department", choices=DEPARTMENTS)
    contact.set_defaults(run=_contact)

    open_case = actions.add_parser(
        "open-case",
        parents=[common],
        help="open a proactive case from it (the same case if repeated)",
    )
    open_case.add_argument("warning_id", metavar="WARNING")
    open_case.add_argument("--department", choices=DEPARTMENTS)
    open_case.set_defaults(run=_open_case)

    dismiss = actions.add_parser("dismiss", parents=[common], help="nothing to do, and why")
    dismiss.add_argument("warning_id", metavar="WARNING")
    dismiss.add_argument("--reason", required=True, help="why; shown as typed")
    dismiss.add_argument("--department", choices=DEPARTMENTS)
    dismiss.set_defaults(run=_dismiss)
