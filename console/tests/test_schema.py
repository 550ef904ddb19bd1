"""The OpenAPI schema (/api/schema/) and Swagger UI (/api/docs/): public, offline, the document's real parameters."""

from http import HTTPStatus

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import get_resolver

from console.schema import SchemaView

pytestmark = pytest.mark.django_db

DOCUMENT_PATHS = {
    "/api/customer/info",
    "/api/server/commit",
    "/api/user/commit",
    "/api/group/commit",
    "/customer/list",
    "/customer/add",
    "/customer/remove",
    "/user/list",
    "/group/list",
}


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == HTTPStatus.OK
    return response.json()


def parameters(operation) -> dict:
    return {parameter["name"]: parameter for parameter in operation.get("parameters", [])}


def resolve(schema, reference: dict) -> dict:
    name = reference["$ref"].rsplit("/", 1)[1]
    return schema["components"]["schemas"][name]


def test_the_schema_is_openapi_3_and_public(client):
    response = client.get("/api/schema/")

    assert response.status_code == HTTPStatus.OK
    assert response.content.startswith(b"openapi: 3.")  # YAML by default; ?format=json for JSON


def test_every_endpoint_is_described_at_the_documents_own_path(schema):
    assert set(schema["paths"]) == DOCUMENT_PATHS  # no trailing slash: exactly as deployed clients call them
    for path in ("/api/customer/info", "/api/server/commit", "/api/user/commit", "/api/group/commit"):
        assert set(schema["paths"][path]) == {"get", "post"}


def test_the_server_commit_lists_the_documents_parameters_and_answers(schema):
    get = schema["paths"]["/api/server/commit"]["get"]

    assert set(parameters(get)) == {"code", "name", "mac", "ip", "timeout", "count", "updatetimes", "key"}
    assert parameters(get)["code"]["required"] is True
    assert {"200", "400", "401", "403", "404", "429"} <= set(get["responses"])
    assert {"ingestKey": []} in get["security"] and {} in get["security"]
    post = schema["paths"]["/api/server/commit"]["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json",
    }
    assert "413" in post["responses"]


@pytest.mark.parametrize(
    ("path", "record", "fields"),
    [
        (
            "/api/user/commit",
            "UserRecord",
            {"code", "uuid", "nickname", "onlinetime", "andtimes", "pctimes", "iostimes", "fmsgs", "tmsgs"},
        ),
        (
            "/api/group/commit",
            "GroupRecord",
            {"code", "gid", "name", "createrid", "creatername", "ucount", "msgcount", "ctime", "fcount", "ncount"},
        ),
    ],
)
def test_the_batch_commits_describe_data_and_its_records(schema, path, record, fields):
    get = schema["paths"][path]["get"]
    assert parameters(get)["data"]["required"] is True
    component = schema["components"]["schemas"][record]
    assert set(component["properties"]) == set(component["required"]) == fields

    json_body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    wrapped, bare = json_body["oneOf"]
    assert bare == {"type": "array", "items": {"$ref": f"#/components/schemas/{record}"}}
    assert set(resolve(schema, wrapped)["properties"]) == {"data", "key"}
    result = resolve(schema, get["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(result["properties"]) == {"status", "accepted", "rejected", "rejected_unlisted"}


def test_the_lookup_answer_is_exactly_the_connection_settings(schema):
    get = schema["paths"]["/api/customer/info"]["get"]
    answer = resolve(schema, get["responses"]["200"]["content"]["application/json"]["schema"])

    assert set(answer["properties"]) == {
        "code",
        "name",
        "tcphost",
        "tcpport",
        "webhost",
        "webport",
        "filehost",
        "fileport",
        "timeout",
    }
    assert parameters(get)["code"]["required"] is True


def test_every_error_answer_has_the_one_error_shape(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == error, (path, method, status)
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "errors"}


def test_the_schema_validates_without_a_warning(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_the_schema_is_generated_once_per_process_and_language(client, monkeypatch):
    monkeypatch.setattr(SchemaView, "_schemas", {})
    generated = []
    original = SchemaView.generator_class.get_schema

    def counting(self, *args, **kwargs):
        generated.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaView.generator_class, "get_schema", counting)
    for lang in ("", "", "en", "zh-hans", "zh-hans", "made-up", "../../etc"):
        assert client.get("/api/schema/", {"lang": lang} if lang else {}).status_code == HTTPStatus.OK

    assert len(generated) == 2  # one per language; unknown languages get the request's own
    assert set(SchemaView._schemas) == {"zh-hans", "en"}


def test_swagger_ui_is_served_offline_from_the_sidecar(client):
    response = client.get("/api/docs/")

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn." not in page and "https://" not in page.split("<body")[0]
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{name}")


def test_the_docs_come_after_the_machine_paths(client):
    """Resolving the lookup never tries the docs' patterns (it is the hottest path)."""
    last = get_resolver().url_patterns[-1]  # include("console.urls"), after every machine path
    assert {pattern.name for pattern in last.url_patterns} == {"schema", "api-docs"}
    assert client.get("/api/docs").status_code == HTTPStatus.OK  # no redirect for the slash either
