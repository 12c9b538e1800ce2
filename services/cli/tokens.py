"""``onedoor token``: a signed bearer token for local use and tests, made with ``AUTH_JWT_KEY``
(the development key when unset). Never needed against a deployed gateway, whose tokens come
from the bureau's sign-in."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from services.cli.outcome import ExitCode
from services.common.catalog import DEPARTMENTS

# Kept here rather than imported: the auth module pulls in grpc and jwt, which every other
# command would then pay for at start-up. test_cli checks the two lists agree.
ROLES = ("window_clerk", "officer", "auditor", "operator", "agency")
AGENCIES = (
    "medical_insurance",
    "health",
    "public_security",
    "disabled_persons_federation",
    "human_resources",
)


def _token(args: argparse.Namespace) -> int:
    from services.common import auth

    try:
        token = auth.issue(
            args.role,
            args.jurisdiction,
            department=args.department or "",
            subject=args.subject or "",
            lifetime=dt.timedelta(hours=args.hours),
            agency=args.agency or "",
        )
    except ValueError as error:
        print(f"onedoor token: {error}", file=sys.stderr)
        return ExitCode.USAGE
    print(token)
    return ExitCode.OK


def register(commands: argparse._SubParsersAction) -> None:
    token = commands.add_parser(
        "token",
        help="issue a signed bearer token (local use)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Prints a bearer token signed with AUTH_JWT_KEY (the development key when "
        "unset). Roles: window_clerk (submit, status, cases), officer of one department "
        "(cases, decide), auditor (audit), operator (health), agency of one agency (push, to the "
        "ingest service).",
        epilog="""examples:
  export ONEDOOR_TOKEN=$(onedoor token --role window_clerk --jurisdiction 320585)
  export ONEDOOR_TOKEN=$(onedoor token --role officer --department assistance --jurisdiction 320585)
  ONEDOOR_TOKEN=$(onedoor token --role auditor --jurisdiction 320585) onedoor audit verify
  ONEDOOR_TOKEN=$(onedoor token --role agency --agency medical_insurance --jurisdiction 320585) \\
    onedoor push expenses.csv""",
    )
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--jurisdiction", required=True, help="6-digit division code, e.g. 320585")
    token.add_argument(
        "--department", choices=DEPARTMENTS, help="for an officer: the department it acts for"
    )
    token.add_argument(
        "--agency", choices=AGENCIES, help="for an agency: the agency whose records it pushes"
    )
    token.add_argument(
        "--subject", help="who the token is for (a staff id); defaults to role-jurisdiction"
    )
    token.add_argument("--hours", type=float, default=8.0, help="lifetime in hours (default 8)")
    token.set_defaults(run=_token)
