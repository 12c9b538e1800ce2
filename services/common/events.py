"""The platform's events (onedoor.events.v1) as they travel: their types (routing keys) and
their bodies, the proto JSON mapping of the message with the proto field names. Pure: no I/O,
so the router (under eventlet) and the asyncio services share it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from onedoor.events.v1 import events_pb2

# The schema version producers write, and the newest consumers read.
SCHEMA_VERSION = 1

CASE_ACCEPTED = "case_accepted"
CASE_DECIDED = "case_decided"
CASE_PROGRESSED = "case_progressed"

EVENT_TYPES: dict[type[Message], str] = {
    events_pb2.CaseAccepted: CASE_ACCEPTED,
    events_pb2.CaseDecided: CASE_DECIDED,
    events_pb2.CaseProgressed: CASE_PROGRESSED,
}

E = TypeVar("E", bound=Message)


class MalformedEvent(ValueError):
    """A body that is not the event it is published as."""


def event_type(event: Message) -> str:
    return EVENT_TYPES[type(event)]


def stamped(event: E) -> E:
    """The event with a new event id and the current schema version."""
    out = type(event)()
    out.CopyFrom(event)
    out.event_id = str(uuid.uuid4())  # type: ignore[attr-defined]
    out.schema_version = SCHEMA_VERSION  # type: ignore[attr-defined]
    return out


def to_body(event: Message) -> dict[str, Any]:
    """The event's JSON body, every field present (a consumer never guesses a default)."""
    return json_format.MessageToDict(
        event, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


# Schema version 0 (before onedoor.events.v1, no schema_version written): case_decided named
# its outcome with a lower-case word. Events of it may still wait in an outbox or a queue
# when the platform is upgraded.
_V0_OUTCOMES = {
    word: f"OUTCOME_{word.upper()}"
    for word in ("approved", "rejected", "materials_requested", "confirmed", "withdrawn", "lapsed")
}


def parse(body: Mapping[str, Any], cls: type[E]) -> E:
    """The event of type ``cls`` in ``body``; fields a newer producer added are ignored.
    Raises MalformedEvent for a body that cannot be one."""
    fields = dict(body)
    if not fields.get("schema_version") and isinstance(fields.get("outcome"), str):
        fields["outcome"] = _V0_OUTCOMES.get(fields["outcome"], fields["outcome"])
    try:
        return json_format.ParseDict(fields, cls(), ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise MalformedEvent(f"not a {cls.DESCRIPTOR.full_name}: {error}") from None
