"""The OpenAPI document covers every action and the committed copy is current."""

import json
import subprocess
import sys
from pathlib import Path

from pancake.api.registry import REGISTRY

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def _generate(tmp_path) -> dict:
    """Generated in a fresh process, exactly as the committed copy is made."""
    out = tmp_path / "openapi.json"
    subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--format", "openapi-json", "--file", out],
        cwd=COMMITTED.parent.parent,
        check=True,
        capture_output=True,
    )
    return json.loads(out.read_text())


def test_every_action_is_documented_with_its_request_and_error_envelope(tmp_path):
    doc = _generate(tmp_path)
    for action_path in REGISTRY:
        operation = doc["paths"][f"/v1/actions/{action_path}"]["post"]
        assert operation["responses"]["401"], action_path
        if REGISTRY[action_path].Input is not None:
            assert "requestBody" in operation, action_path
    ids = [op["post"]["operationId"] for op in doc["paths"].values()]
    assert len(ids) == len(set(ids))


def test_committed_openapi_document_is_current(tmp_path):
    """Regenerate: python manage.py spectacular --format openapi-json --file docs/openapi.json"""
    assert _generate(tmp_path) == json.loads(COMMITTED.read_text())


def test_openapi_json_is_served_and_the_browsable_page_loads(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert "/v1/actions/store/create-store" in response.json()["paths"]
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"swagger" in page.content.lower()
    assert b"cdn" not in page.content.lower()
