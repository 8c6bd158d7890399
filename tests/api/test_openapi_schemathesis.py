"""The API against its own OpenAPI document, with schemathesis: generated requests (a bounded
number per route, the same every run), sent with a real admin token, must get no server error
and answers that conform to the spec (status documented, body matching its schema, the one
error shape)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from abusedesk.api.app import create_app
from abusedesk.auth.tokens import do_create_token
from abusedesk.workspace import Workspace

EXAMPLES_PER_ROUTE = 3


def test_the_api_conforms_to_its_spec(workspace: Workspace) -> None:
    value, _ = do_create_token(
        workspace.store, workspace.clock, name="schemathesis", role="admin", actor="test"
    )
    headers = {"Authorization": f"Bearer {value}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(workspace))
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_ROUTE,
            deadline=None,
            derandomize=True,  # the same requests every run: a failure here is reproducible
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            # Every check but "schema-valid data is accepted": schemas give the shape, and the
            # API refuses shape-valid values on their meaning with a documented 400 (an event
            # type that does not exist, a timestamp far in the future, an unknown rule).
            case.call_and_validate(
                headers=headers, excluded_checks=[checks.positive_data_acceptance]
            )

        try:
            check()
        except (
            Exception,
            ExceptionGroup,
        ) as exc:  # collect every route's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert failures == [], "\n\n".join(failures)


def test_every_id_in_a_path_is_bounded(workspace: Workspace) -> None:
    """A path id over 64 bits is no id of ours: a 400 from every route that takes one, not a
    500 from the database driver (schemathesis drew it only by chance)."""
    from fastapi.testclient import TestClient

    value, _ = do_create_token(
        workspace.store, workspace.clock, name="ids", role="admin", actor="test"
    )
    headers = {"Authorization": f"Bearer {value}"}
    too_big = str(2**64)
    with TestClient(create_app(workspace)) as client:
        spec = client.get("/openapi.json").json()
        asked = 0
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                ids = [
                    p["name"]
                    for p in operation.get("parameters", [])
                    if p["in"] == "path" and p["schema"].get("type") == "integer"
                ]
                if not ids:
                    continue
                url = path
                for name in ids:
                    url = url.replace("{" + name + "}", too_big)
                answer = client.request(method.upper(), url, headers=headers, json={})
                asked += 1
                assert answer.status_code == 400, (method, path, answer.status_code, answer.text)
                assert answer.json()["error"]["code"] == "invalid_input"
        assert asked > 20
