"""Signing in to the pages over real HTTP, on both stores: one-time links, sessions, form tokens.

The browser story is tests/browser/test_signing_in.py; here each rule is pinned on its own,
with the server's answers read as a browser would get them (cookies, redirects, statuses).
"""

from __future__ import annotations

import re
from contextlib import closing
import threading
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from api.logging import without_secrets
from api.tokens import TokenError
from api.web.sessions import SignIns
from tests.e2e.http_server import running_server

pytestmark = pytest.mark.storage

FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def server(database_url):
    with running_server(database_url) as s:
        yield s


def sign_ins(server) -> SignIns:
    return server.app.state.sign_ins


def link_for(server, role: str = "commissioner", org: str = "ICB-NCL", user: str = "a.khan@ncl.example.nhs.uk") -> str:
    return sign_ins(server).issue(user=user, org=org, role=role).path()


def browser(server) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=30, follow_redirects=False)


def press_sign_in(client: httpx.Client, link: str) -> httpx.Response:
    """What a person does with a link: open it, press the button."""
    shown = client.get(link)
    assert shown.status_code == 200, shown.text
    return client.post(link, data={"csrf_token": FORM_TOKEN.search(shown.text).group(1)})


def signed_in(server, **who) -> httpx.Client:
    client = browser(server)
    answer = press_sign_in(client, link_for(server, **who))
    assert answer.status_code == 303 and answer.headers["location"] == "/app/"
    return client


def form_token(client: httpx.Client) -> str:
    return FORM_TOKEN.search(client.get("/app/").text).group(1)


def test_the_front_door_sends_a_browser_to_the_home_page_which_asks_a_stranger_to_sign_in(server):
    with browser(server) as client:
        door = client.get("/")
        assert door.status_code == 303 and door.headers["location"] == "/app/"
        home = client.get("/app/")
        assert home.status_code == 401
        assert "text/html" in home.headers["content-type"]
        assert "Sign in to AQP Ledger" in home.text and "aqp sign-in" in home.text


def test_a_link_signs_in_once_and_the_session_cookie_is_httponly_and_samesite(server):
    link = link_for(server)
    with browser(server) as client:
        shown = client.get(link)
        # Opening the link (as a mail scanner would) spends nothing: it can still be used.
        assert client.get(link).status_code == 200
        answer = client.post(link, data={"csrf_token": FORM_TOKEN.search(shown.text).group(1)})
        assert answer.status_code == 303
        cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("aqp_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Max-Age=28800" in cookie
        assert "Secure" not in cookie  # plain http on loopback
        home = client.get("/app/")
        assert home.status_code == 200
        assert "a.khan@ncl.example.nhs.uk (commissioner, ICB-NCL)" in home.text
        assert home.headers["cache-control"] == "no-store"
        assert "script-src 'self' 'nonce-" in home.headers["content-security-policy"]
    with browser(server) as again:
        assert again.get(link).status_code == 404
        assert "no longer works" in again.get(link).text


def test_two_presses_of_one_link_at_once_start_one_session(server):
    link = link_for(server)
    clients = [browser(server) for _ in range(4)]
    tokens = [FORM_TOKEN.search(c.get(link).text).group(1) for c in clients]
    answers: list[int] = []

    def press(client: httpx.Client, token: str) -> None:
        answers.append(client.post(link, data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=press, args=pair) for pair in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [303, 404, 404, 404]
    for c in clients:
        c.close()


def test_an_expired_link_and_an_expired_session_sign_nobody_in(server):
    store = sign_ins(server)
    issued = store.issue(user="a.khan", org="ICB-NCL", role="commissioner", now=datetime.now(timezone.utc) - timedelta(minutes=16))
    with browser(server) as client:
        assert client.get(issued.path()).status_code == 404
    assert store.use(issued.secret) is None
    fresh = store.issue(user="a.khan", org="ICB-NCL", role="commissioner")
    started = store.use(fresh.secret, now=datetime.now(timezone.utc) - timedelta(hours=8, minutes=1))
    assert started is not None
    with browser(server) as client:
        client.cookies.set("aqp_session", started.secret)
        assert client.get("/app/").status_code == 401


def test_a_sign_in_form_posted_without_its_own_token_is_refused_and_spends_nothing(server):
    link = link_for(server)
    with browser(server) as forger:
        refused = forger.post(link, data={"csrf_token": "guessed"})
        assert refused.status_code == 403
        assert "aqp_session" not in refused.headers.get("set-cookie", "")
    with browser(server) as person:
        assert press_sign_in(person, link).status_code == 303


def test_a_form_sent_without_the_session_form_token_or_from_another_site_does_nothing(server):
    with closing(signed_in(server)) as client:
        assert client.post("/app/sign-out").status_code == 403
        assert client.post("/app/sign-out", data={"csrf_token": "wrong"}).status_code == 403
        token = form_token(client)
        cross = client.post("/app/sign-out", data={"csrf_token": token}, headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
        assert client.get("/app/").status_code == 200, "a refused sign-out ended the session"
        out = client.post("/app/sign-out", data={"csrf_token": token}, headers={"Origin": server.base_url})
        assert out.status_code == 200 and "You have signed out" in out.text
        assert "a.khan" not in out.text
        ended = client.cookies.get("aqp_session")
        assert not ended
    # The old cookie no longer works, even if a copy of it was kept.


def test_a_copy_of_a_session_cookie_is_useless_after_signing_out(server):
    client = signed_in(server)
    kept = client.cookies.get("aqp_session")
    client.post("/app/sign-out", data={"csrf_token": form_token(client)})
    with browser(server) as thief:
        thief.cookies.set("aqp_session", kept)
        assert thief.get("/app/").status_code == 401
    client.close()


def test_a_session_cookie_is_not_an_api_token_and_a_token_is_not_a_session(server):
    with closing(signed_in(server)) as client:
        assert client.get("/contracts").status_code == 401
    token = server.token("commissioner", "ICB-NCL")
    with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as api:
        assert api.get("/contracts").status_code == 200
        assert api.get("/app/").status_code == 401


def test_a_link_is_issued_only_for_a_principal_an_api_token_could_have(server):
    store = sign_ins(server)
    with pytest.raises(TokenError, match="role"):
        store.issue(user="a.khan", org="ICB-NCL", role="superuser")
    with pytest.raises(TokenError, match="user"):
        store.issue(user="a khan; drop", org="ICB-NCL", role="commissioner")


def test_no_log_line_keeps_a_sign_in_link(server):
    secret = sign_ins(server).issue(user="a.khan", org="ICB-NCL", role="commissioner").secret
    line = without_secrets(None, "info", {"event": "request", "path": f"/app/sign-in/{secret}", "note": f"see /app/sign-in/{secret}?x"})
    assert secret not in repr(line)
    assert line["path"] == "/app/sign-in/(link)"


def test_a_page_address_with_a_nul_or_an_unknown_route_answers_a_page_not_a_500(server):
    with closing(signed_in(server)) as client:
        nul = client.get("/app/?x=%00")
        assert nul.status_code == 400 and "text/html" in nul.headers["content-type"]
        missing = client.get("/app/no-such-page")
        assert missing.status_code == 404 and "Page not found" in missing.text
        long_link = client.get("/app/sign-in/" + "x" * 5000)
        assert long_link.status_code == 404


def test_behind_a_tls_proxy_the_session_cookie_is_secure(database_url, monkeypatch):
    monkeypatch.setenv("AQP_WEB_SECURE_COOKIES", "yes")
    with running_server(database_url) as proxied:
        link = link_for(proxied)
        with browser(proxied) as client:
            shown = client.get(link)
            form_cookie = next(h for h in shown.headers.get_list("set-cookie") if h.startswith("aqp_sign_in_form="))
            assert "Secure" in form_cookie
            # The browser, speaking https to the proxy, sends the Secure cookie back; httpx over http would not.
            token = FORM_TOKEN.search(shown.text).group(1)
            answer = client.post(link, data={"csrf_token": token}, headers={"Cookie": f"aqp_sign_in_form={token}"})
            cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("aqp_session="))
            assert "Secure" in cookie


def test_aqp_sign_in_prints_a_link_the_server_takes_and_refuses_a_role_that_is_not_one(database_url):
    from tests.e2e.test_cli import aqp

    with running_server(database_url) as served:
        issued = aqp("sign-in", "--user", "b.osei@nel.example.nhs.uk", "--org", "ICB-NEL", "--role", "contract_manager",
                     "--base-url", served.base_url, database_url=database_url)
        assert issued.returncode == 0, issued.stderr
        link = issued.stdout.strip()
        assert link.startswith(served.base_url + "/app/sign-in/") and "works once" in issued.stderr
        with browser(served) as client:
            assert press_sign_in(client, link.removeprefix(served.base_url)).status_code == 303
            assert "b.osei@nel.example.nhs.uk (contract manager, ICB-NEL)" in client.get("/app/").text
    refused = aqp("sign-in", "--user", "x", "--org", "ICB-NEL", "--role", "boss", database_url=database_url)
    assert refused.returncode == 2 and "invalid choice" in refused.stderr
