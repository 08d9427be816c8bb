"""An export that cannot run answers the JSON error format, not a CSV body."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/event-lists/export/?type=opened&start=x",
        "/api/v1/messages/export/?start=x",
        "/api/v1/stats/?format=csv&start=x",
        "/api/v1/messages/?format=csv&start=2026-11-01&end=2026-11-02&status=weird",
    ],
)
def test_a_bad_export_request_gets_a_json_error(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "invalid"
