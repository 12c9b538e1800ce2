"""``onedoor``: the platform's command line. ``onedoor token`` issues a signed token for local
use and tests (with ``AUTH_JWT_KEY``, or the development key when it is unset)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from services.common import auth
from services.common.catalog import DEPARTMENTS


def _token(args: argparse.Namespace) -> int:
    try:
        token = auth.issue(
            args.role,
            args.jurisdiction,
            department=args.department or "",
            subject=args.subject or "",
            lifetime=dt.timedelta(hours=args.hours),
        )
    except ValueError as error:
        print(f"onedoor token: {error}", file=sys.stderr)
        return 2
    print(token)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="onedoor", description="The onedoor platform's command line."
    )
    commands = root.add_subparsers(dest="command", required=True)
    token = commands.add_parser(
        "token",
        help="issue a signed bearer token",
        description="Prints a bearer token signed with AUTH_JWT_KEY (the development key when unset).",
    )
    token.add_argument("--role", required=True, choices=auth.ROLES)
    token.add_argument("--jurisdiction", required=True, help="6-digit division code, e.g. 320585")
    token.add_argument(
        "--department", choices=DEPARTMENTS, help="for an officer: the department it acts for"
    )
    token.add_argument(
        "--subject", help="who the token is for (a staff id); defaults to role-jurisdiction"
    )
    token.add_argument("--hours", type=float, default=8.0, help="lifetime in hours (default 8)")
    token.set_defaults(run=_token)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
