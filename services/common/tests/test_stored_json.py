"""The JSON the services store: the message again when parsed, on one line, Chinese as typed."""

from __future__ import annotations

from google.protobuf import json_format

from onedoor.case.v1 import case_pb2
from services.common.stored_json import stored_json


def test_it_parses_back_to_the_message_and_is_compact():
    text = case_pb2.Text(
        code=case_pb2.TEXT_CODE_ERROR_FAILED_PRECONDITION,
        args=[
            case_pb2.TextArg(name="reason", verbatim="材料不全"),
            case_pb2.TextArg(name="n", count=2),
        ],
    )
    stored = stored_json(text)
    assert json_format.Parse(stored, case_pb2.Text()) == text
    assert "\n" not in stored
    assert "材料不全" in stored
