"""Reading what the platform said (onedoor.case.v1.Text: a code with typed parameters, its
details, and the gateway's rendering): tests of a rule assert on the codes and values, tests
of what people see on the rendered text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf import json_format

from onedoor.case.v1 import case_pb2


def _key(code: str) -> str:
    return code.removeprefix("TEXT_CODE_")


def _value(arg: dict[str, Any]) -> Any:
    (kind,) = (k for k in arg if k != "name")
    value = arg[kind]
    # proto3 JSON writes int64 as a string.
    return int(value) if kind in ("amountFen", "count") else value


def said(message: dict[str, Any] | case_pb2.Text) -> tuple[str, dict[str, Any]]:
    """A text as (code without its prefix, {placeholder: value}), e.g.
    ("INCOME_BELOW_STANDARD", {"members": 2, "standard": 94500, ...})."""
    if isinstance(message, case_pb2.Text):
        message = json_format.MessageToDict(message)
    return _key(message.get("code", "")), {a["name"]: _value(a) for a in message.get("args", [])}


def codes(message: dict[str, Any] | case_pb2.Text | None) -> list[str]:
    """A text's code, then its details' codes, depth first."""
    if message is None:
        return []
    if isinstance(message, case_pb2.Text):
        message = json_format.MessageToDict(message)
    if not message:
        return []
    return [_key(message.get("code", ""))] + [
        c for d in message.get("details", []) for c in codes(d)
    ]


def all_said(texts: Iterable[case_pb2.Text]) -> list[tuple[str, dict[str, Any]]]:
    return [said(t) for t in texts]


def entry(application_json: dict[str, Any], kind: str, department: str = "") -> dict[str, Any]:
    """The first timeline entry of a kind (of a department) in an application's JSON."""
    return next(
        e
        for e in application_json["timeline"]
        if e["kind"] == f"TIMELINE_ENTRY_KIND_{kind}"
        and (not department or e.get("department") == department)
    )


def message_of(application_json: dict[str, Any], kind: str, department: str = "") -> dict[str, Any]:
    return dict(entry(application_json, kind, department).get("message", {}))


def text_of(application_json: dict[str, Any], kind: str, department: str = "") -> str:
    """What the entry says to people, as the gateway rendered it (the note of an entry that
    predates texts)."""
    found = entry(application_json, kind, department)
    return str(found.get("message", {}).get("text") or found.get("note", ""))
