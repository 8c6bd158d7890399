"""Every error the API gives has the one shape {"error": {"code", "message"}} (house style)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/v1/nowhere", 404, "not_found"),
        ("delete", "/v1/events", 405, "method_not_allowed"),
        ("post", "/v1/events", 401, "unauthorized"),
    ],
)
def test_errors_share_one_shape(
    api_client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    response = getattr(api_client, method)(path)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


def test_health_needs_no_token(api_client: TestClient) -> None:
    assert api_client.get("/v1/health").json()["status"] == "ok"


def test_openapi_documents_the_routes(api_client: TestClient) -> None:
    spec = api_client.get("/openapi.json").json()
    assert "/v1/events" in spec["paths"]


def test_a_405_names_the_allowed_methods(api_client: TestClient) -> None:
    response = api_client.delete("/v1/events")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"


def test_openapi_documents_bodies_errors_and_the_bearer_scheme(api_client: TestClient) -> None:
    spec = api_client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    error = {"$ref": "#/components/schemas/Error"}
    codes = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    assert {"unauthorized", "forbidden", "limit_exceeded", "bad_query"} <= set(codes["enum"])
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            assert "422" not in responses, where  # validation errors answer 400
            assert responses["500"]["content"]["application/json"]["schema"] == error, where
            if path == "/v1/health":
                assert "security" not in operation
                continue
            assert operation["security"] == [{"bearerAuth": []}], where
            for status in ("400", "401", "403", "404"):
                assert responses[status]["content"]["application/json"]["schema"] == error
    assert "requestBody" in spec["paths"]["/v1/events"]["post"]
    assert "requestBody" in spec["paths"]["/v1/decisions"]["post"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("get", "/v1/decisions", "POST"),
        ("delete", "/v1/health", "GET"),
    ],
)
def test_a_405_on_any_route_names_the_allowed_methods(
    api_client: TestClient, method: str, path: str, allow: str
) -> None:
    response = api_client.request(method, path)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == allow
