"""The applications the load generator sends: valid dibao applications, made once as bytes.

Building a protobuf message or a JSON document per call would cost the load generator more
CPU than it saves the platform, so each household is serialized once and a call only splices
a fresh request id in front (protobuf fields may come in any order) or into the JSON text.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import uuid

from google.protobuf import json_format

from onedoor.gateway.v1 import gateway_service_pb2 as pb
from services.common import auth
from services.common.identity import compose
from services.common.receipt import receipt_for

JURISDICTION = "320585"
MATERIALS = ["id_card", "hukou_booklet", "income_proof", "economic_check_consent"]
_PLACEHOLDER = "@@REQUEST_ID@@"
_SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"
_GIVEN = "秀英建国丽娟志强海燕桂兰明华春梅永福玉珍德胜淑芬"


def clerk_authorization() -> str:
    """The Authorization value of a window clerk of the jurisdiction (the platform's
    development signing key unless AUTH_JWT_KEY says otherwise, as for the platform)."""
    return f"Bearer {auth.issue('window_clerk', JURISDICTION, subject='bench-clerk')}"


def officer_authorization(department: str) -> str:
    """The Authorization value of an officer of ``department`` in the jurisdiction."""
    token = auth.issue("officer", JURISDICTION, department=department, subject="bench-officer")
    return f"Bearer {token}"


# Stand-ins for the two members' identity numbers, as long as one (18 characters), so a new
# person can be spliced into the encoded JSON and protobuf bodies without re-encoding them:
# the platform refuses a second open dibao for anyone in a household.
_PEOPLE = (b"#" * 18, b"%" * 18)


def _household(rng: random.Random) -> dict[str, object]:
    """A two-person household of Taicang, its request id and identity numbers placeholders."""
    members = []
    for i in range(2):
        members.append(
            {
                "name": rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=2)),
                "idNumber": _PEOPLE[i].decode(),
                "relation": "本人" if i == 0 else "配偶",
                "monthlyIncomeFen": rng.randrange(0, 120_000),
            }
        )
    return {
        "requestId": _PLACEHOLDER,
        "matterCode": "assistance.dibao",
        "applicant": {
            "name": members[0]["name"],
            "idNumber": members[0]["idNumber"],
            "phone": "139" + "".join(rng.choices("0123456789", k=8)),
            "hukouDivision": JURISDICTION,
        },
        "householdMembers": members,
        "materials": MATERIALS,
    }


class Applications:
    """``households`` distinct households, each sent again and again under fresh request ids
    (every call is a new application to the platform)."""

    def __init__(self, households: int = 500, seed: int = 7) -> None:
        rng = random.Random(seed)
        # Every call names two people no earlier call named (see _people).
        self._people = itertools.count(rng.randrange(0, 1_000_000) * 2)
        self._grpc: list[bytes] = []
        self._json: list[tuple[bytes, bytes]] = []
        for _ in range(households):
            document = _household(rng)
            text = json.dumps(document, ensure_ascii=False).encode()
            before, after = text.split(_PLACEHOLDER.encode())
            self._json.append((before, after))
            message = json_format.ParseDict(document, pb.SubmitApplicationRequest())
            message.ClearField("request_id")
            self._grpc.append(message.SerializeToString())
        self._next = 0

    def _pick(self) -> int:
        self._next = (self._next + 1) % len(self._grpc)
        return self._next

    @staticmethod
    def request_id() -> str:
        return str(uuid.uuid4())

    def _people_in(self, body: bytes) -> bytes:
        for stand_in in _PEOPLE:
            n = next(self._people)
            # 998 sequence numbers a birth day, over 60 years of birth days.
            born = dt.date(1940, 1, 1) + dt.timedelta(days=(n // 998) % (365 * 60))
            body = body.replace(stand_in, compose(JURISDICTION, born, n % 998 + 1).encode())
        return body

    def grpc_body(self, request_id: str) -> bytes:
        """SubmitApplicationRequest bytes: field 1 (request_id) spliced before the rest."""
        raw = request_id.encode()
        return b"\x0a" + bytes([len(raw)]) + raw + self._people_in(self._grpc[self._pick()])

    def json_body(self, request_id: str) -> bytes:
        before, after = self._json[self._pick()]
        return self._people_in(before + request_id.encode() + after)

    @staticmethod
    def receipt(request_id: str) -> str:
        # The gateway derives the receipt from the request id, so the load generator knows it
        # without decoding the answer.
        return receipt_for(JURISDICTION, request_id)
