"""The operator's view of cases held for peer bureaus: which wait, which are stuck, and why
the last delivery failed (GET /v1/forwards)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any

from services.cli import gateway_client, tables
from services.cli.outcome import ExitCode
from services.common.clock import BureauClock

STATES = ("waiting", "stuck", "delivered")


def forwards_table(forwards: Iterable[dict[str, Any]], clock: BureauClock | None = None) -> str:
    """One row a forward, its times in the bureau's local time."""
    return tables.table(
        ["RECEIPT", "PEER", "STATE", "CAUSE", "ATTEMPTS", "HELD", "LAST TRY", "NEXT TRY", "ERROR"],
        [
            [
                f.get("receipt", ""),
                f.get("peer", ""),
                tables.short(f.get("state", ""), "FORWARD_STATE_"),
                tables.short(f.get("cause", ""), "FORWARD_FAILURE_CAUSE_").lower(),
                f.get("attempts", 0),
                tables.moment(f.get("createTime", ""), clock),
                tables.moment(f.get("lastAttemptTime", ""), clock),
                tables.moment(f.get("nextAttemptTime", ""), clock),
                f.get("lastError", ""),
            ]
            for f in forwards
        ],
        max_width=[None, None, None, None, None, None, None, None, 80],
        right=[False, False, False, False, True, False, False, False, False],
    )


def _forwards(args: argparse.Namespace) -> int:
    client = gateway_client.from_args(args)
    state = "stuck" if args.stuck else (args.state or "")
    params = {"state": state, "pageSize": str(args.page_size) if args.page_size else ""}
    items: list[dict[str, Any]] = []
    following = ""
    for page in client.pages("/v1/forwards", params, args.page_token or ""):
        items += page.get("forwards") or []
        following = str(page.get("nextPageToken", ""))
        if not args.all:
            break
    if args.json:
        tables.emit_json({"forwards": items, "nextPageToken": following}, sys.stdout)
        return ExitCode.OK
    if not items:
        print(f"no {state} forwards" if state else "no forwards")
    else:
        print(forwards_table(items, getattr(args, "clock", None)))
    if following:
        print(f"more: --page-token {following} (or --all)", file=sys.stderr)
    return ExitCode.OK


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    forwards = commands.add_parser(
        "forwards",
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="cases held for peer bureaus: waiting, stuck and why (operator)",
        description="Lists the cases this bureau accepted for another bureau (the applicant's "
        "home jurisdiction), oldest first: the peer, whether the forward waits, is stuck "
        "(has waited longer than the gateway's GATEWAY_FEDERATION_STUCK_AFTER_SECONDS) or was "
        "delivered, the cause of the last failure (tls_refused: a certificate refused on "
        "either side; peer_down: no connection or no answer; refused_by_peer: the peer "
        "answered with an error), the attempts and their times in the bureau's local time. "
        "A forward is retried with back-off until delivered, stuck or not. Takes an "
        "operator's token: `onedoor token --role operator --jurisdiction 320585`.",
        epilog="""examples:
  onedoor forwards --stuck
  onedoor forwards --state waiting --all
  onedoor forwards --stuck --json | jq -r '.forwards[] | "\\(.peer) \\(.cause)"'""",
    )
    which = forwards.add_mutually_exclusive_group()
    which.add_argument("--stuck", action="store_true", help="only those stuck")
    which.add_argument("--state", choices=STATES, help="only those in this state")
    forwards.add_argument("--page-size", type=int, metavar="N", help="at most 200 (default 50)")
    forwards.add_argument("--page-token", metavar="T", help="continue where a listing stopped")
    forwards.add_argument("--all", action="store_true", help="every page")
    forwards.set_defaults(run=_forwards)
