import grpc
from google.rpc import error_details_pb2

from services.common.errors import ApiError, FieldViolation, invalid_argument


def test_invalid_argument_carries_bad_request_and_error_info():
    error = invalid_argument([FieldViolation("applicant.id_number", "check digit does not match")])
    status = error.to_status_proto()
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert bad.field_violations[0].field == "applicant.id_number"
    info = error_details_pb2.ErrorInfo()
    assert status.details[1].Unpack(info)
    assert info.reason == "INVALID_REQUEST"
    assert error.http_status == 400


def test_json_error_names_each_field_and_the_trace():
    error = invalid_argument([FieldViolation("a", "x"), FieldViolation("b", "y")])
    body = error.to_json("abc123")
    assert body["traceId"] == "abc123"
    violations = body["error"]["details"][0]["fieldViolations"]
    assert [v["field"] for v in violations] == ["a", "b"]
    assert body["error"]["status"] == "INVALID_ARGUMENT"


def test_precondition_failure_is_added_when_typed():
    error = ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "missing",
        violations=(FieldViolation("materials", "missing id_card"),),
        precondition_type="MATERIALS",
    )
    status = error.to_status_proto()
    failure = error_details_pb2.PreconditionFailure()
    assert status.details[1].Unpack(failure)
    assert failure.violations[0].type == "MATERIALS"
