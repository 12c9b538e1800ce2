"""The description's schemas are the proto JSON mapping: what the gateway writes validates,
and the document is valid OpenAPI 3.1."""

import jsonschema
from google.protobuf import json_format
from openapi_spec_validator import validate

from gateway import openapi
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from tests.factories import dibao_proto


def _doc() -> dict:
    routes = [
        openapi.Route(
            "POST",
            "/v1/applications",
            "submitApplication",
            "accept an application at the window",
            response=pb.SubmitApplicationResponse.DESCRIPTOR,
            body=pb.SubmitApplicationRequest.DESCRIPTOR,
        ),
        openapi.Route(
            "GET",
            "/v1/applications/{receipt}",
            "getApplication",
            "look an application up",
            response=pb.GetApplicationResponse.DESCRIPTOR,
            path_params=[("receipt", "the receipt, e.g. 320585-7K3F9-QX2MA")],
            query=[("view", {"type": "string"}, "how much to show")],
        ),
    ]
    return openapi.document(routes, title="onedoor", version="test")


def _validator(doc: dict, name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_the_document_is_valid_openapi_3_1():
    validate(_doc())


def test_a_request_and_an_answer_in_the_proto_json_mapping_validate():
    doc = _doc()
    request = json_format.MessageToDict(dibao_proto())
    _validator(doc, "onedoor.gateway.v1.SubmitApplicationRequest").validate(request)
    answer = pb.SubmitApplicationResponse(receipt="320585-7K3F9-QX2MA", created=True)
    answer.decision_deadline.GetCurrentTime()
    _validator(doc, "onedoor.gateway.v1.SubmitApplicationResponse").validate(
        json_format.MessageToDict(answer)
    )


def test_unknown_fields_and_wrong_types_do_not_validate():
    doc = _doc()
    validator = _validator(doc, "onedoor.gateway.v1.SubmitApplicationRequest")
    request = json_format.MessageToDict(dibao_proto())
    assert not validator.is_valid({**request, "applicantIdNumber": "x"})
    assert not validator.is_valid({**request, "materials": "id_card"})
    members = request["householdMembers"]
    members[0]["monthlyIncomeFen"] = "lots"
    assert not validator.is_valid(request)
