"""The auditor's commands: read the audit log, and check that nobody rewrote it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from services.cli import chain, gateway_client, tables
from services.cli.outcome import CliError, ExitCode
from services.cli.progress import Progress

# The API's largest page: the fewest round trips over a long chain.
VERIFY_PAGE_SIZE = 200


def _list(args: argparse.Namespace) -> int:
    client = gateway_client.from_args(args)
    params = {
        "receipt": args.receipt or "",
        "pageSize": str(args.page_size) if args.page_size else "",
    }
    entries: list[dict[str, Any]] = []
    following = ""
    for page in client.pages("/v1/audit", params, args.page_token or ""):
        entries += page.get("entries") or []
        following = str(page.get("nextPageToken", ""))
        if not args.all:
            break
    if args.json:
        tables.emit_json({"entries": entries, "nextPageToken": following}, sys.stdout)
        return ExitCode.OK
    if not entries:
        print("no audit entries" + (f" about {args.receipt}" if args.receipt else ""))
    else:
        print(
            tables.table(
                ["SEQ", "TIME", "ACTOR", "ACTION", "RECEIPT", "FIELDS", "DETAIL"],
                [
                    [
                        e.get("sequence", ""),
                        tables.moment(e.get("createTime", "")),
                        e.get("actor", ""),
                        e.get("action", ""),
                        e.get("receipt", ""),
                        ", ".join(e.get("fields") or ()),
                        e.get("detail", ""),
                    ]
                    for e in entries
                ],
                max_width=[None, None, 40, None, None, 40, 60],
                right=[True, False, False, False, False, False, False],
            )
        )
    if following:
        print(f"more: --page-token {following} (or --all)", file=sys.stderr)
    return ExitCode.OK


def _verify(args: argparse.Namespace) -> int:
    client = gateway_client.from_args(args)
    progress = Progress(quiet=args.json)

    def pages() -> Iterator[list[dict[str, Any]]]:
        # The whole chain: a receipt filter would leave gaps that look like removed rows.
        for page in client.pages("/v1/audit", {"pageSize": str(VERIFY_PAGE_SIZE)}):
            yield list(page.get("entries") or [])

    def report(checked: int, last_sequence: int) -> None:
        progress.update(f"checked {checked} entries (up to sequence {last_sequence})")

    try:
        verdict = chain.verify(pages(), report)
    except ValueError as error:
        raise CliError(f"the audit log holds an entry that cannot be read: {error}") from None
    finally:
        progress.done()
    if args.json:
        tables.emit_json(
            {
                "intact": verdict.intact,
                "entries": verdict.checked,
                "lastSequence": verdict.last_sequence,
                "firstBreak": verdict.broken_at,
            },
            sys.stdout,
        )
    elif verdict.intact:
        print(f"audit log intact: {verdict.checked} entries")
    else:
        print(f"audit log BROKEN at sequence {verdict.broken_at}")
        print(
            f"  entry {verdict.broken_at}'s hash does not follow from the entries before it: "
            "it, or the entry before it, was changed, inserted or removed",
            file=sys.stderr,
        )
        print(
            "  keep the database as it is and report it; "
            f"`onedoor audit list --page-size 5 --json` around sequence {verdict.broken_at} "
            "shows the rows",
            file=sys.stderr,
        )
    return ExitCode.OK if verdict.intact else ExitCode.FAILED


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    audit = commands.add_parser(
        "audit",
        parents=[common],
        formatter_class=raw,
        help="the audit log: list it, verify its hash chain (auditor)",
        description="The audit log records every read of a case's personal data, every "
        "officer and clerk action and every exchange with a peer bureau. Each entry's hash "
        "covers the one before it, so a changed or removed row breaks the chain. Takes an "
        "auditor's token: `onedoor token --role auditor --jurisdiction 320585`.",
        epilog="""examples:
  onedoor audit verify
  onedoor audit list --receipt 320585-8D9TV-YJY6T""",
    )
    actions = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        parents=[common],
        formatter_class=raw,
        help="entries, oldest first",
        description="Lists audit entries, oldest first: who did what to which case, which "
        "fields of personal data were read (names, never values), under which trace.",
        epilog="""examples:
  onedoor audit list
  onedoor audit list --receipt 320585-8D9TV-YJY6T --all
  onedoor audit list --all --json | jq '.entries | length'""",
    )
    listing.add_argument("--receipt", metavar="R", help="only entries about this case")
    listing.add_argument("--page-size", type=int, metavar="N", help="at most 200 (default 50)")
    listing.add_argument("--page-token", metavar="T", help="continue where a listing stopped")
    listing.add_argument("--all", action="store_true", help="every page")
    listing.set_defaults(run=_list)

    verify = actions.add_parser(
        "verify",
        parents=[common],
        formatter_class=raw,
        help="check the whole hash chain",
        description="Reads the whole audit log, 200 entries a page, and recomputes its hash "
        "chain. Prints 'audit log intact: N entries', or the sequence number of the first "
        "entry that does not follow, and exits 1. Progress goes to stderr. --json prints "
        "{intact, entries, lastSequence, firstBreak}.",
        epilog="""examples:
  ONEDOOR_TOKEN=$(onedoor token --role auditor --jurisdiction 320585) onedoor audit verify
  onedoor audit verify --json | jq .intact""",
    )
    verify.set_defaults(run=_verify)
