"""The HTTP API's OpenAPI 3.1 description, built from the routes' own declarations and the
protos' descriptors, so the description cannot drift from what the gateway serves: the
request and response bodies are the proto JSON mapping of the gateway.v1 messages, errors
are ``google.rpc.Status`` in Google's JSON error shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

JsonSchema = dict[str, Any]

_INT32 = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SFIXED32,
}
_UINT32 = {FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32}
# The proto JSON mapping writes 64-bit integers as strings, and reads either.
_INT64 = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_SFIXED64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_FIXED64,
}
_WELL_KNOWN: dict[str, JsonSchema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?s$"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
    },
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
}


def _ref(name: str) -> JsonSchema:
    return {"$ref": f"#/components/schemas/{name}"}


@dataclass
class Schemas:
    """The components a description refers to, collected as messages are described."""

    found: dict[str, JsonSchema] = field(default_factory=dict)

    def enum(self, descriptor: EnumDescriptor) -> JsonSchema:
        if descriptor.full_name not in self.found:
            self.found[descriptor.full_name] = {
                "type": "string",
                "enum": [v.name for v in descriptor.values],
            }
        return _ref(descriptor.full_name)

    def message(self, descriptor: Descriptor) -> JsonSchema:
        """The message's schema (a reference). No fields beyond the message's: the gateway
        refuses them in requests, and never writes them."""
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        name = descriptor.full_name
        if name not in self.found:
            self.found[name] = {}  # placed first: messages may refer to themselves
            properties = {f.json_name: self._field(f) for f in descriptor.fields}
            self.found[name] = {
                "type": "object",
                "properties": properties,
                "additionalProperties": False,
            }
        return _ref(name)

    def _field(self, f: FieldDescriptor) -> JsonSchema:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            value = f.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self._single(value)}
        if f.is_repeated:
            return {"type": "array", "items": self._single(f)}
        return self._single(f)

    def _single(self, f: FieldDescriptor) -> JsonSchema:
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            return self.message(f.message_type)
        if f.type == FieldDescriptor.TYPE_ENUM:
            return self.enum(f.enum_type)
        if f.type in _INT32:
            return {"type": "integer", "format": "int32"}
        if f.type in _UINT32:
            return {"type": "integer", "format": "int32", "minimum": 0}
        if f.type in _INT64:
            return {"type": ["string", "integer"], "format": "int64", "pattern": "^-?[0-9]+$"}
        if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return {"type": "number"}
        if f.type == FieldDescriptor.TYPE_BOOL:
            return {"type": "boolean"}
        if f.type == FieldDescriptor.TYPE_BYTES:
            return {"type": "string", "contentEncoding": "base64"}
        return {"type": "string"}


# Google's JSON error shape (AIP-193) with the trace id the gateway adds to every answer, and
# the LocalizedMessage beside the message.
ERROR_SCHEMA: JsonSchema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "status", "message"],
            "properties": {
                "code": {"type": "integer"},
                "status": {"type": "string"},
                # The developer's message, in English.
                "message": {"type": "string"},
                # The same for people, in the language of Accept-Language (zh-CN by default);
                # each field violation in details carries its own.
                "localizedMessage": {
                    "type": "object",
                    "properties": {"locale": {"type": "string"}, "message": {"type": "string"}},
                },
                "details": {"type": "array", "items": _WELL_KNOWN["google.protobuf.Any"]},
            },
        },
        "traceId": {"type": "string"},
    },
}


@dataclass(frozen=True)
class Route:
    """One HTTP route: what the handler reads and answers. The handler registers itself from
    this (method, path), and the description is made from the same."""

    method: str
    path: str
    operation_id: str
    summary: str
    response: Descriptor | None
    body: Descriptor | None = None
    # Query parameters: (name, schema, description). Anything else is refused.
    query: Sequence[tuple[str, JsonSchema, str]] = ()
    # Path parameters, in the path as {name}.
    path_params: Sequence[tuple[str, str]] = ()
    public: bool = False
    content_type: str = "application/json"


def document(routes: Iterable[Route], *, title: str, version: str) -> dict[str, Any]:
    schemas = Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "parameters": [
                {
                    "name": n,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": d,
                }
                for n, d in route.path_params
            ]
            + [
                {"name": n, "in": "query", "required": False, "schema": s, "description": d}
                for n, s, d in route.query
            ],
            "responses": {
                "default": {
                    "description": "an error: google.rpc.Status in Google's JSON error shape",
                    "content": {"application/json": {"schema": _ref("Error")}},
                }
            },
        }
        if route.response is not None:
            operation["responses"]["200"] = {
                "description": "done",
                "content": {route.content_type: {"schema": schemas.message(route.response)}},
            }
        else:
            operation["responses"]["200"] = {"description": "done"}
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schemas.message(route.body)}},
            }
        if route.public:
            operation["security"] = []
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    components = {"schemas": {**schemas.found, "Error": ERROR_SCHEMA}}
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "security": [{"bearer": []}],
        "paths": paths,
        "components": components,
    }
