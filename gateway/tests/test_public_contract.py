"""onedoor.gateway.v1 is self-contained for window front-ends: everything its methods take
and return is the gateway's own, or a shared value type of onedoor.case.v1, so no internal
service's message (and no field a caller must not set) reaches a front-end."""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, EnumDescriptor

from onedoor.gateway.v1 import gateway_service_pb2 as pb

PUBLIC_PACKAGES = ("onedoor.gateway.v1.", "onedoor.case.v1.", "google.protobuf.")


def _reachable() -> tuple[set[str], set[str]]:
    """Full names of every message and enum a GatewayService method's request or response
    carries, however deeply nested."""
    messages: set[str] = set()
    enums: set[str] = set()
    pending: list[Descriptor] = []
    for method in pb.DESCRIPTOR.services_by_name["GatewayService"].methods:
        pending += [method.input_type, method.output_type]
    while pending:
        message = pending.pop()
        if message.full_name in messages:
            continue
        messages.add(message.full_name)
        for field in message.fields:
            if field.message_type is not None:
                pending.append(field.message_type)
            enum: EnumDescriptor | None = field.enum_type
            if enum is not None:
                enums.add(enum.full_name)
    return messages, enums


def test_every_type_a_method_carries_is_public() -> None:
    messages, enums = _reachable()
    internal = sorted(n for n in messages | enums if not n.startswith(PUBLIC_PACKAGES))
    assert internal == []
    # The walk does reach into the shared value types.
    assert "onedoor.case.v1.Applicant" in messages


def test_requests_are_the_gateways_own() -> None:
    for method in pb.DESCRIPTOR.services_by_name["GatewayService"].methods:
        assert method.input_type.full_name.startswith("onedoor.gateway.v1."), method.name
        assert method.output_type.full_name.startswith("onedoor.gateway.v1."), method.name


def test_the_proto_imports_no_internal_package() -> None:
    imported = [d.name for d in pb.DESCRIPTOR.dependencies]
    assert all(name.startswith(("onedoor/case/v1/", "google/protobuf/")) for name in imported), (
        imported
    )


def test_a_decision_names_no_officer() -> None:
    """Who decided comes from the token: the request has no field to claim it."""
    fields = set(pb.DecideCaseRequest.DESCRIPTOR.fields_by_name)
    assert fields == {"department", "receipt", "request_id", "decision", "reason"}
