"""The OpenAPI 3 schema (drf-spectacular) at ``/api/schema/``, and Swagger UI at ``/api/docs/``.

**Public.** The schema restates the vendor's interface document, which every deployed server and client
already speaks, and holds no data; the staff endpoints it lists still answer only staff. Generating it
takes a fraction of a second, so each process generates it once per language and serves that copy
(``SchemaView``): a flood of schema requests costs a dict lookup each, never a generation, and the lookup
resolves before these paths are even tried (``zwadmin/urls.py``). Swagger UI's files come from the
``drf-spectacular-sidecar`` package through whitenoise: the docs work without the internet.

**The machine endpoints** (lookup, commits) parse their raw requests themselves (``telemetry.ingest_parsing``)
and have no serializer to infer a schema from, so their parameters, bodies and answers are written out here,
as ``OpenApiViewExtension``s: the whole API's description lives in this one module and the views stay as the
protocol needs them. The wire rules themselves are docs/protocol.md's; each description points at them.

Hooks: ``preprocess`` lists the paths exactly as deployed clients call them (no trailing slash; the slash is
optional and never redirects); ``postprocess`` adds the hand-written components, the ingest-key security
scheme and the error answers every staff endpoint may give (``{"detail", "errors"}``, zwadmin.exception_handlers).
"""

import copy

from django.conf import settings
from django.utils import translation
from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

from customers.validators import CODE_DIGITS
from telemetry.models import MAX_COUNT, ImGroup, ImUser, ServerReport
from telemetry.validators import GROUP_FIELDS, USER_FIELDS

# ---------------------------------------------------------------------------------------------------------------
# Serving
# ---------------------------------------------------------------------------------------------------------------


class SchemaView(SpectacularAPIView):
    """The schema, generated once per process and language (``?lang=en``, else the request's language)."""

    _schemas: dict[str, dict] = {}

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        language = request.GET.get("lang")
        if language not in dict(settings.LANGUAGES):  # only the console's languages: a bounded set of copies
            return self._get_schema_response(request)
        with translation.override(language):
            return self._get_schema_response(request)

    def _get_schema_response(self, request):
        language = translation.get_language() or settings.LANGUAGE_CODE
        schema = self._schemas.get(language)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, patterns=self.patterns)
            schema = self._schemas[language] = generator.get_schema(request=request, public=True)
        filename = f"zwadmin.{self.perform_content_negotiation(request, force=True)[0].format}"
        return Response(data=schema, headers={"Content-Disposition": f'inline; filename="{filename}"'})


# ---------------------------------------------------------------------------------------------------------------
# Components
# ---------------------------------------------------------------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _text(max_length: int, description: str = "", *, nullable: bool = True) -> dict:
    schema = {"type": "string", "maxLength": max_length, "nullable": nullable}
    return {**schema, "description": description} if description else schema


def _max(model, field: str) -> int:
    return model._meta.get_field(field).max_length


CODE = {
    "type": "string",
    "pattern": f"^\\s*{CODE_DIGITS}\\s*$",
    "description": "Customer code: 4 to 12 digits, leading zeros kept (`0513001`).",
    "example": "0513001",
}
COUNT = {
    "description": 'A count: a whole number 0 to 2^63-1, as a JSON number or as decimal text (`178`, `"178"`).',
    "oneOf": [
        {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_COUNT},
        {"type": "string", "pattern": "^\\s*[0-9]+\\s*$"},
    ],
}
DATE_TEXT = (
    "`YYYY-MM-DD`; `YYYY-MM-DD HH:MM:SS` and `YYYY/MM/DD` are accepted too. A time without a zone is China "
    "Standard Time."
)
IDENTIFIER = {
    "description": "Text or a JSON integer (kept as its decimal text).",
    "oneOf": [{"type": "string", "maxLength": 64}, {"type": "integer"}],
}
KEY_PARAMETER = {
    "type": "string",
    "description": "The customer's ingest key, for a server that cannot send `Authorization: Bearer <key>`. "
    'Only a customer switched to *key required* needs it (docs/protocol.md, "Ingest keys").',
}

COMPONENTS = {
    "Error": {
        "type": "object",
        "description": 'Every error answer (docs/protocol.md, "Errors"): `errors` maps each bad field to its messages.',
        "properties": {
            "detail": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
        "required": ["detail", "errors"],
    },
    "CustomerInfo": {
        "type": "object",
        "description": "Where an IM client connects: nothing else (no contact, phone, engineer or licensed MAC).",
        "properties": {
            "code": {"type": "string", "example": "0513001"},
            "name": {"type": "string", "example": "江苏中威科技"},
            "tcphost": {"type": "string", "example": "61.155.85.77"},
            "tcpport": {"type": "integer", "nullable": True, "example": 10003},
            "webhost": {"type": "string", "example": "61.155.85.77"},
            "webport": {"type": "integer", "nullable": True, "example": 10001},
            "filehost": {"type": "string", "example": "61.155.85.77"},
            "fileport": {"type": "integer", "nullable": True, "example": 10004},
            "timeout": {"type": "string", "format": "date", "nullable": True, "example": "2016-09-21"},
        },
        "required": ["code", "name", "tcphost", "tcpport", "webhost", "webport", "filehost", "fileport", "timeout"],
    },
    "CommitStatus": {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": ["ok"]}},
        "required": ["status"],
    },
    "BatchResult": {
        "type": "object",
        "description": "Valid records are stored; each bad one is rejected alone, by its index in `data`. "
        "`rejected` lists the first 100 rejected records; `rejected_unlisted`, present only when more were rejected, "
        "counts the others.",
        "properties": {
            "status": {"type": "string", "enum": ["ok"]},
            "accepted": {"type": "integer", "minimum": 0},
            "rejected_unlisted": {"type": "integer", "minimum": 1},
            "rejected": {
                "type": "array",
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "errors": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                    "required": ["index", "errors"],
                },
            },
        },
        "required": ["status", "accepted", "rejected"],
    },
    "ServerReport": {
        "type": "object",
        "description": 'A server\'s status report (docs/protocol.md, "Server interface"). Only `code` is required '
        "(here or in the query string); absent text is stored empty, absent counts as 0.",
        "properties": {
            "code": CODE,
            "name": _text(_max(ServerReport, "name"), "The server's name."),
            "mac": {
                "type": "string",
                "nullable": True,
                "description": "MAC address, 5 to 8 hex pairs (`56:E8:F6:23:EF`); stored upper case with `:`.",
            },
            "ip": {"type": "string", "nullable": True, "description": "IPv4 or IPv6 address."},
            "timeout": {"type": "string", "nullable": True, "description": f"Licence expiry: {DATE_TEXT}"},
            "count": COUNT,
            "updatetimes": COUNT,
            "key": KEY_PARAMETER,
        },
    },
    "UserRecord": {
        "type": "object",
        "description": "One IM user's figures; upserted by (customer, `uuid`). Every key is required.",
        "properties": {
            "code": CODE,
            "uuid": IDENTIFIER,
            "nickname": _text(_max(ImUser, "nickname")),
            **{name: COUNT for name in ImUser.FIGURES},
        },
        "required": [name for name, _clean in USER_FIELDS],
    },
    "GroupRecord": {
        "type": "object",
        "description": "One IM group's figures; upserted by (customer, `gid`). Every key is required.",
        "properties": {
            "code": CODE,
            "gid": IDENTIFIER,
            "name": _text(_max(ImGroup, "name")),
            "createrid": {**IDENTIFIER, "nullable": True},
            "creatername": _text(_max(ImGroup, "creatername")),
            "ucount": COUNT,
            "msgcount": COUNT,
            "ctime": {"type": "string", "nullable": True, "description": f"Creation time: {DATE_TEXT}"},
            "fcount": COUNT,
            "ncount": COUNT,
        },
        "required": [name for name, _clean in GROUP_FIELDS],
    },
}
for _record in ("UserRecord", "GroupRecord"):
    COMPONENTS[f"{_record}Batch"] = {
        "type": "object",
        "properties": {
            "data": {
                "description": "The records, as a JSON array or as the text of one.",
                "oneOf": [{"type": "array", "items": _ref(_record)}, {"type": "string"}],
            },
            "key": KEY_PARAMETER,
        },
        "required": ["data"],
    }

SECURITY_SCHEMES = {
    "ingestKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A customer's ingest key (`Authorization: Bearer <key>`, or the `key` parameter): needed "
        "only by customers switched to *key required*; the document's servers send none.",
    }
}

# ---------------------------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------------------------

ERROR = _ref("Error")
ERROR_TEXT = {
    400: "A parameter is missing or invalid: `errors` names it.",
    401: "Not authenticated.",
    403: "Not allowed.",
    404: "Not found.",
    405: "Method not allowed.",
    406: "The `Accept` header asks for a format this endpoint does not give.",
    413: "The body is larger than `ZWADMIN_TELEMETRY_MAX_BODY_BYTES` (32 MB), holds more than 1,000 form fields, "
    "or, on the commits, `data` holds more than `ZWADMIN_TELEMETRY_MAX_RECORDS` records (50,000) or more JSON "
    "values than such a batch (docs/protocol.md, Limits).",
    415: "The body's content type is not JSON, a form or multipart.",
    429: "Throttled: retry after `Retry-After` seconds.",
}


def _error(status: int, text: str = "") -> OpenApiResponse:
    return OpenApiResponse(response=ERROR, description=text or ERROR_TEXT[status])


THROTTLED = _error(
    429,
    "Throttled: too many commits of this code, or this address has probed too many unknown codes "
    "(at the lookup or here). Retry after `Retry-After` seconds.",
)

# ---------------------------------------------------------------------------------------------------------------
# The machine endpoints (docs/protocol.md): GET takes the parameters from the query string, POST from the body
# (form, multipart or JSON) or the query string.
# ---------------------------------------------------------------------------------------------------------------


def _query(name: str, schema: dict, *, required: bool = False, description: str = "") -> OpenApiParameter:
    description = description or schema.get("description", "")
    examples = [OpenApiExample(schema["example"], value=schema["example"])] if "example" in schema else None
    schema = {key: value for key, value in schema.items() if key not in ("description", "nullable", "example")}
    return OpenApiParameter(
        name,
        schema,
        OpenApiParameter.QUERY,
        required=required,
        description=description,
        allow_blank=True,
        examples=examples,
    )


def _bodies(schema: dict, form: dict | None = None) -> dict:
    """The same parameters as a form, a multipart body or JSON (``schema``); ``form`` when they differ as text."""
    form = form or schema
    return {
        "application/x-www-form-urlencoded": form,
        "multipart/form-data": form,
        "application/json": schema,
    }


def _as_text(schema: dict) -> dict:
    """A JSON object schema as a form carries it: every value is text."""
    properties = {}
    for name, value in schema["properties"].items():
        text = {"type": "string"}
        if "description" in value:
            text["description"] = value["description"]
        if name == "code":
            text["pattern"] = value["pattern"]
        properties[name] = text
    return {**{k: v for k, v in schema.items() if k != "properties"}, "properties": properties}


LOOKUP_TEXT = (
    'Where an IM client finds its company\'s servers (docs/protocol.md, "/api/customer/info"). Cached; an edit in '
    "the console is visible on the next lookup. An address that probes too many distinct unknown codes is "
    "refused (429), known codes included."
)
SERVER_COMMIT_TEXT = (
    'A deployed IM server reports its status (docs/protocol.md, "Server interface"): stored as history and as '
    "the customer's latest status. A customer switched to *key required* must send its ingest key."
)
BATCH_TEXT = (
    "`data` is a JSON array of records, each with its own `code` (one batch may hold several customers). "
    "Upserted by (customer, {key}); a bad record is rejected alone, by index, and the others are stored; the "
    "same {key} twice: the later record wins. Records of a customer switched to *key required* are rejected "
    "(`errors.key`) without its ingest key; records of a code over its commit rate are rejected "
    "(`errors.code`), and when that is every code of the request, the request is a 429. Nothing is stored "
    "when `data` is missing, not JSON or not an array (400)."
)
INGEST_AUTH = [{}, {"ingestKey": []}]

SERVER_FIELDS = COMPONENTS["ServerReport"]["properties"]


def _server_query(*, code_required: bool) -> list[OpenApiParameter]:
    return [
        _query("code", CODE, required=code_required),
        *(
            _query(name, schema)
            for name, schema in SERVER_FIELDS.items()
            if name not in ("code", "count", "updatetimes")
        ),
        _query("count", {"type": "string", "pattern": "^\\s*[0-9]*\\s*$"}, description="Online user count."),
        _query("updatetimes", {"type": "string", "pattern": "^\\s*[0-9]*\\s*$"}, description="Update count."),
    ]


class CustomerInfoViewSchema(OpenApiViewExtension):
    target_class = "telemetry.views.CustomerInfoView"

    def view_replacement(self):
        responses = {
            200: OpenApiResponse(response=_ref("CustomerInfo"), description="The customer's connection settings."),
            400: _error(400, "`code` is missing."),
            404: _error(404, "No customer in the registry has this code (or it has been removed)."),
            429: _error(429, "This address has probed too many distinct unknown codes: every lookup is refused."),
        }
        code_body = {"type": "object", "properties": {"code": CODE}}

        class Fixed(self.target_class):
            @extend_schema(
                operation_id="customer_info_get",
                summary="Client lookup",
                description=LOOKUP_TEXT,
                tags=["client"],
                parameters=[_query("code", CODE, required=True)],
                responses=responses,
            )
            def get(self, request, *args, **kwargs):
                return super().get(request, *args, **kwargs)

            @extend_schema(
                operation_id="customer_info_post",
                summary="Client lookup (POST)",
                description=LOOKUP_TEXT + " `code` comes from the body, else from the query string.",
                tags=["client"],
                parameters=[_query("code", CODE)],
                request=_bodies(code_body),
                responses={
                    **responses,
                    413: _error(413, "The body is larger than 4 KB, or JSON holding more than 1,000 values."),
                    415: _error(415),
                },
            )
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

        return Fixed


class ServerCommitViewSchema(OpenApiViewExtension):
    target_class = "telemetry.views.ServerCommitView"

    def view_replacement(self):
        responses = {
            200: OpenApiResponse(response=_ref("CommitStatus"), description="Stored."),
            400: _error(400, "A parameter is missing or breaks a rule: `errors` names it. Nothing is stored."),
            401: _error(401, "The customer requires its ingest key and the report carried none, or a wrong one."),
            403: _error(403, "The customer has been removed from the registry: its reports are refused."),
            404: _error(404, "No customer has this code; the sighting is recorded for the operators."),
            429: THROTTLED,
        }

        class Fixed(self.target_class):
            @extend_schema(
                operation_id="server_commit_get",
                summary="Server status report",
                description=SERVER_COMMIT_TEXT,
                tags=["server"],
                parameters=_server_query(code_required=True),
                auth=INGEST_AUTH,
                responses=responses,
            )
            def get(self, request, *args, **kwargs):
                return super().get(request, *args, **kwargs)

            @extend_schema(
                operation_id="server_commit_post",
                summary="Server status report (POST)",
                description=SERVER_COMMIT_TEXT + " Parameters come from the body; the query string fills in those "
                "the body leaves out.",
                tags=["server"],
                parameters=_server_query(code_required=False),
                request=_bodies(_ref("ServerReport"), _as_text(COMPONENTS["ServerReport"])),
                auth=INGEST_AUTH,
                responses={**responses, 413: _error(413)},
            )
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

        return Fixed


def _batch_schema(target: str, *, record: str, key: str, summary: str, operation: str):
    text = BATCH_TEXT.format(key=f"`{key}`")
    responses = {
        200: OpenApiResponse(response=_ref("BatchResult"), description="Every valid record stored."),
        400: _error(400, "`data` is missing, not JSON or not an array: nothing is stored."),
        429: THROTTLED,
    }
    data_text = {"type": "string", "description": f"A JSON array of {record}s, as text."}
    form = {
        "type": "object",
        "properties": {"data": data_text, "key": KEY_PARAMETER},
        "required": ["data"],
    }
    json_body = {"oneOf": [_ref(f"{record}Batch"), {"type": "array", "items": _ref(record)}]}

    class Schema(OpenApiViewExtension):
        target_class = target

        def view_replacement(self):
            class Fixed(self.target_class):
                @extend_schema(
                    operation_id=f"{operation}_get",
                    summary=summary,
                    description=text,
                    tags=["server"],
                    parameters=[_query("data", data_text, required=True), _query("key", KEY_PARAMETER)],
                    auth=INGEST_AUTH,
                    responses=responses,
                )
                def get(self, request, *args, **kwargs):
                    return super().get(request, *args, **kwargs)

                @extend_schema(
                    operation_id=f"{operation}_post",
                    summary=f"{summary} (POST)",
                    description=text + ' A JSON body is `{"data": [...]}` or the bare array; a batch of 50,000 '
                    "records (about 9 MB) is accepted.",
                    tags=["server"],
                    parameters=[_query("data", data_text), _query("key", KEY_PARAMETER)],
                    request=_bodies(json_body, form),
                    auth=INGEST_AUTH,
                    responses={**responses, 413: _error(413)},
                )
                def post(self, request, *args, **kwargs):
                    return super().post(request, *args, **kwargs)

            return Fixed

    return Schema


ImUserCommitViewSchema = _batch_schema(
    "telemetry.views.ImUserCommitView",
    record="UserRecord",
    key="uuid",
    summary="Users' figures",
    operation="user_commit",
)
ImGroupCommitViewSchema = _batch_schema(
    "telemetry.views.ImGroupCommitView",
    record="GroupRecord",
    key="gid",
    summary="Groups' figures",
    operation="group_commit",
)

# ---------------------------------------------------------------------------------------------------------------
# The management interface (staff): what inference cannot see
# ---------------------------------------------------------------------------------------------------------------


class CustomerAddViewSchema(OpenApiViewExtension):
    target_class = "customers.views.CustomerAddView"

    def view_replacement(self):
        from customers.serializers import CustomerAddSerializer, CustomerSerializer

        class Fixed(self.target_class):
            @extend_schema(
                operation_id="customer_add",
                summary="Register a customer",
                tags=["management"],
                request=CustomerAddSerializer,
                responses={201: CustomerSerializer},
            )
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

        return Fixed


class CustomerRemoveViewSchema(OpenApiViewExtension):
    target_class = "customers.views.CustomerRemoveView"

    def view_replacement(self):
        from customers.serializers import CustomerRemoveSerializer

        removed = {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["ok"]},
                "id": {"type": "string", "format": "uuid"},
                "removed_at": {"type": "string", "format": "date-time"},
            },
            "required": ["status", "id", "removed_at"],
        }

        class Fixed(self.target_class):
            @extend_schema(
                operation_id="customer_remove",
                summary="Remove a customer from the registry",
                tags=["management"],
                request=CustomerRemoveSerializer,
                responses={
                    200: OpenApiResponse(response=removed, description="Removed (restorable in the console)."),
                    404: _error(404, "No customer in the registry has this id."),
                },
            )
            def post(self, request, *args, **kwargs):
                return super().post(request, *args, **kwargs)

        return Fixed


def _per_customer_list(target: str, operation: str, summary: str):
    class Schema(OpenApiViewExtension):
        target_class = target

        def view_replacement(self):
            class Fixed(self.target_class):
                @extend_schema(
                    operation_id=operation,
                    summary=summary,
                    tags=["management"],
                    # The answer is inferred (a page of JSON; ``format=csv`` streams every row as CSV).
                    parameters=[_query("code", CODE, required=True, description="The customer's code.")],
                )
                def get(self, request, *args, **kwargs):
                    return super().get(request, *args, **kwargs)

            return Fixed

    return Schema


ImUserListViewSchema = _per_customer_list("telemetry.views.ImUserListView", "user_list", "A customer's IM users")
ImGroupListViewSchema = _per_customer_list("telemetry.views.ImGroupListView", "group_list", "A customer's IM groups")

# ---------------------------------------------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------------------------------------------


def preprocess(endpoints):
    """Paths as the vendor document writes them: ``^api/customer/info/?$`` is ``/api/customer/info``."""
    return [
        (path.rstrip("/") if regex.endswith("/?$") and path != "/" else path, regex, method, callback)
        for path, regex, method, callback in endpoints
    ]


def postprocess(result, generator, request, public):
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).update(copy.deepcopy(COMPONENTS))
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    staff_errors = (400, 401, 403, 404, 405, 406)
    for path, operations in result["paths"].items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if not path.startswith("/api/"):
                for status in (*staff_errors, *((415,) if "requestBody" in operation else ())):
                    responses.setdefault(str(status), {"description": ERROR_TEXT[status]})
            for status, response in responses.items():
                if status.startswith(("4", "5")) and "content" not in response:
                    response["content"] = {"application/json": {"schema": ERROR}}
                if status == "429":
                    response["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                    }
                if status == "401" and path.startswith("/api/"):
                    response["headers"] = {
                        "WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`."}
                    }
    return result
