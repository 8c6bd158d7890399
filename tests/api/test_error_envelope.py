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
