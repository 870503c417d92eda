"""Issue 16's review: a past notice's source is the sender's text, so the page links it only where it is a web address.

`past_notice.take` carries the package's `uri` and `license` as the package states them; a
`javascript:` address rendered as a link would run when clicked (the CSP stops it in browsers
that honour it; the page should not rely on that alone).
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.http_server import running_server
from tests.e2e.test_web_sign_in import press_sign_in

pytestmark = pytest.mark.storage

RELEASE = {"ocid": "ocds-b5fd17-review16", "id": "review16-1", "date": "2022-10-18T10:00:00Z", "tag": ["tender"],
           "initiationType": "tender", "buyer": {"id": "b1", "name": "<script>alert(1)</script>Council"},
           "tender": {"id": "t1", "title": "<img src=x onerror=alert(1)>", "status": "active"}}


def test_a_past_notices_source_address_that_is_not_a_web_address_is_shown_not_linked(database_url):
    with running_server(database_url) as server:
        take = {"type": "past_notice.take", "release": json.dumps(RELEASE), "source": {
            "uri": "javascript:alert(document.cookie)", "publisher": {"name": "<b>Someone</b>"},
            "published_date": "2022-10-18T10:00:00Z", "package_sha256": "a" * 64, "position": "releases/0",
            "license": "javascript:alert(2)"}}
        with server.client("admin", "ORG-1") as admin:
            taken = admin.post("/commands", json=take)
        assert taken.status_code == 200, taken.text
        with httpx.Client(base_url=server.base_url, timeout=60, follow_redirects=False) as reader:
            link = server.app.state.sign_ins.issue(user="c.reader", org="ICB-NCL", role="commissioner").path()
            assert press_sign_in(reader, link).status_code == 303
            page = reader.get("/app/past-notices/ocds-b5fd17-review16")
    assert page.status_code == 200, page.text
    assert "javascript:alert(document.cookie)" in page.text  # shown as the text it is
    assert 'href="javascript:' not in page.text.lower()
    assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text and "<b>Someone" not in page.text
