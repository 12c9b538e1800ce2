"""The window clerk's commands beyond submitting: supplying materials, a party's divorce
confirmation or withdrawal, and the search by person. An identity number is never a
command-line argument (it would land in the shell's history and in `ps`): it is read from a
prompt that does not echo, or from stdin when that is not a terminal."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from services.cli import departments, gateway_client, tables
from services.cli.applications import application_view
from services.cli.gateway_client import segment
from services.cli.outcome import CliError, ExitCode

PARTIES = ("applicant", "other")


def read_id_number(
    prompt: str,
    stdin: TextIO | None = None,
    ask: Callable[[str], str] = getpass.getpass,
) -> str:
    """The identity number presented at the counter: from a prompt without echo when stdin is
    a terminal, else stdin's first line (`onedoor search < card.txt`, a card reader's pipe)."""
    source = stdin or sys.stdin
    number = ask(prompt) if source.isatty() else source.readline()
    number = number.strip()
    if not number:
        raise CliError(
            "no identity number was given",
            code=ExitCode.USAGE,
            hint="type it at the prompt, or pipe it on stdin",
        )
    return number


def _supply(args: argparse.Namespace) -> int:
    client = gateway_client.from_args(args)
    answer = client.post(
        f"/v1/applications/{segment(args.receipt)}:supplyMaterials",
        {"materials": args.materials},
    )
    if args.json:
        tables.emit_json(answer, sys.stdout)
    else:
        print(application_view(answer.get("application") or {}))
    return ExitCode.OK


def _divorce(args: argparse.Namespace) -> int:
    client = gateway_client.from_args(args)
    number = read_id_number(f"identity number of the {args.party} party (not shown): ")
    method = "confirmDivorce" if args.step == "confirm" else "withdrawDivorce"
    answer = client.post(f"/v1/applications/{segment(args.receipt)}:{method}", {"idNumber": number})
    if args.json:
        tables.emit_json(answer, sys.stdout)
        return ExitCode.OK
    print(f"divorce  {tables.short(answer.get('divorceState', ''), 'DIVORCE_STATE_')}")
    print(application_view(answer.get("application") or {}))
    return ExitCode.OK


def _search(args: argparse.Namespace) -> int:
    client = gateway_client.from_args(args)
    number = read_id_number("identity number (not shown): ")
    found: list[dict[str, object]] = []
    token = ""
    while True:
        page = client.post(
            "/v1/applications:search",
            {"idNumber": number, **({"pageToken": token} if token else {})},
        )
        found += page.get("applications") or []
        token = str(page.get("nextPageToken", ""))
        if not token:
            break
    if args.json:
        tables.emit_json({"applications": found}, sys.stdout)
    elif not found:
        print("no applications name this person in the jurisdiction")
    else:
        print(departments.applications_table(found))
    return ExitCode.OK


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    supply = commands.add_parser(
        "supply",
        parents=[common],
        formatter_class=raw,
        help="record the materials an applicant handed in (clerk)",
        description="Records materials a department asked for (the matter's material codes, "
        "see `onedoor matters CODE`); every department waiting for them resumes the case and "
        "its deadline clock runs again. Shows the application after.",
        epilog="""examples:
  onedoor supply 320585-8D9TV-YJY6T income_proof
  onedoor supply 320585-8D9TV-YJY6T income_proof hukou_booklet --json""",
    )
    supply.add_argument("receipt", metavar="RECEIPT")
    supply.add_argument("materials", metavar="MATERIAL", nargs="+")
    supply.set_defaults(run=_supply)

    divorce = commands.add_parser(
        "divorce",
        parents=[common],
        formatter_class=raw,
        help="a party confirms or withdraws a divorce (clerk)",
        description="A party to a divorce confirms it after the cooling-off period, or "
        "withdraws it within. The party's identity number, as on the card presented, is "
        "asked for without echo (or read from stdin), never given as an argument.",
        epilog="""examples:
  onedoor divorce confirm 320585-8D9TV-YJY6T --party applicant
  onedoor divorce withdraw 320585-8D9TV-YJY6T --party other < card.txt""",
    )
    divorce.add_argument("step", choices=("confirm", "withdraw"))
    divorce.add_argument("receipt", metavar="RECEIPT")
    divorce.add_argument(
        "--party",
        choices=PARTIES,
        required=True,
        help="whose card is presented: the applicant's or the other party's",
    )
    divorce.set_defaults(run=_divorce)

    search = commands.add_parser(
        "search",
        parents=[common],
        formatter_class=raw,
        help="a person's applications, by identity number (clerk)",
        description="Finds every application in the jurisdiction naming the person (as "
        "applicant, household member, other party or the deceased). The identity number is "
        "asked for without echo, or read from stdin; it is sent in the request body, never a "
        "URL. Results are masked; each search is written to the audit log.",
        epilog="""examples:
  onedoor search
  onedoor search --json < card.txt | jq -r '.applications[].receipt'""",
    )
    search.set_defaults(run=_search)
