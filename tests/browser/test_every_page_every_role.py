"""Every page, for every role of two organisations: nothing fails, and no page shows what the API withholds.

Each principal signs in as a person does and walks the pages from the home page, following
every link under /app (a few of each kind of address, so the walk ends), then also opens
the records the other organisation of its role found. For each page:

- the answer is a page, never a 500;
- a record's page (a home, a contract, a competition) answers as the API answers the same
  principal for the same record: both there, or both not found;
- nothing the API withholds from this principal appears: every text the API shows an
  admin about the record but not this principal (concerns, people's names and details,
  evaluators, sealed tenders...) is absent from the page's HTML.

It needs no browser (the pages work without scripts); the browser tests click the stories.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx
import pytest

from projections import evaluation_tables as ev
from projections.evaluation import EvaluationTrail
from tests.browser.site import CSU, FOI_AUTHORITY, Site, with_foi_requests

pytestmark = pytest.mark.storage

FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r'href="([^"#]+)"')
#: a record's page, and the API's address of the same record
RECORD_PAGES = (
    (re.compile(r"^/app/homes/(?P<ref>[^/?]+)$"), "/locations/{ref}"),
    (re.compile(r"^/app/contracts/(?P<ref>[^?]+)$"), "/contracts/{ref}"),
    (re.compile(r"^/app/competitions/(?P<ref>[^/?]+)$"), "/competitions/{ref}"),
    (re.compile(r"^/app/competitions/(?P<ref>[^/?]+)/evaluation$"), "/competitions/{ref}/evaluation"),
    (re.compile(r"^/app/foi/(?P<ref>(?!disclosure-log$)[^/?]+)$"), "/foi-requests/{ref}"),
)
#: how many addresses of one kind (the same path with its last segment and query taken away) a walk opens
PER_KIND = 3
PER_PRINCIPAL = 45


@dataclass(frozen=True)
class Person:
    role: str
    org: str
    user: str


def people(site: Site) -> list[Person]:
    """Two organisations for every role (an evaluator: one seated on the demo's panel, one not)."""
    seated = site.server.app.state.service.view(EvaluationTrail).select(ev.EVALUATORS.name)
    homes = _homes(site)
    return [
        Person("commissioner", "ICB-NCL", "c.ncl"), Person("commissioner", "ICB-NEL", "c.nel"),
        Person("contract_manager", "ICB-NCL", "m.ncl"), Person("contract_manager", "ICB-SWL", "m.swl"),
        Person("procurement_lead", CSU, "lead.csu"), Person("procurement_lead", "OTHER-CSU", "lead.other"),
        Person("evaluator", seated[0]["organisation"], seated[0]["evaluator"]), Person("evaluator", "ICB-SWL", "not.seated"),
        Person("provider", homes[0], f"{homes[0]}-manager"), Person("provider", homes[1], f"{homes[1]}-manager"),
        Person("auditor", "NAO", "auditor.1"), Person("auditor", "AUDIT-2", "auditor.2"),
        Person("foi_officer", "ICB-NCL", "foi.ncl"), Person("foi_officer", "ICB-NEL", "foi.nel"),
        Person("admin", "AQP-ADMIN", "admin.1"), Person("admin", "OTHER-ADMIN", "admin.2"),
    ]


def _homes(site: Site) -> list[str]:
    from projections import cms
    from projections.cms import CmsList

    rows = site.server.app.state.service.view(CmsList).select(cms.HOMES.name, columns=("location",))
    return sorted(r["location"] for r in rows)


def signed_in(site: Site, person: Person) -> httpx.Client:
    client = httpx.Client(base_url=site.base_url, timeout=60, follow_redirects=False)
    link = site.sign_in_link(person.role, person.org, person.user).removeprefix(site.base_url)
    shown = client.get(link)
    client.post(link, data={"csrf_token": FORM_TOKEN.search(shown.text).group(1)})
    assert client.get("/app/").status_code == 200
    return client


def kind_of(path: str) -> str:
    parts = urlsplit(path)
    return parts.path.rsplit("/", 1)[0] + ("?" if parts.query else "")


def walk(client: httpx.Client, extra: list[str]) -> Iterator[tuple[str, httpx.Response]]:
    """The pages reachable from the home page (bounded), then `extra`."""
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    queue = ["/app/"]
    visited = 0
    while queue and visited < PER_PRINCIPAL:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        kinds[kind_of(path)] += 1
        if kinds[kind_of(path)] > PER_KIND:
            continue
        answer = client.get(path)
        visited += 1
        yield path, answer
        if answer.status_code == 200 and "text/html" in answer.headers.get("content-type", ""):
            for href in LINK.findall(answer.text):
                target = urljoin(path, unescape(href))
                split = urlsplit(target)
                if split.netloc or not split.path.startswith("/app/") or "download=" in split.query:
                    continue
                if split.path.startswith(("/app/assets/", "/app/static/", "/app/sign-")):
                    continue
                queue.append(split.path + (f"?{split.query}" if split.query else ""))
    for path in extra:
        if path not in seen:
            yield path, client.get(path)


def api_address(path: str) -> str | None:
    bare = urlsplit(path).path
    for pattern, api in RECORD_PAGES:
        found = pattern.match(bare)
        if found:
            return api.format(ref=quote(unquote(found["ref"]), safe="/"))
    return None


def texts(value: Any) -> set[str]:
    """Every string in a JSON value (keys and values), as it would be written on a page."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found |= texts(v)
    elif isinstance(value, list):
        for v in value:
            found |= texts(v)
    elif isinstance(value, str):
        found.add(value)
    return found


def withheld(admin_view: Any, own_view: Any) -> set[str]:
    """Texts an admin is shown about the record that this principal is not (long enough to mean something)."""
    own = texts(own_view)
    own_text = " ".join(own)
    return {
        t for t in texts(admin_view) - own
        if len(t) >= 8 and t not in own_text
        # Not a time, and not a word of the vocabulary (a panel's or a status's name) that any page may say.
        and not re.fullmatch(r"[\d\-:T.+Z ]+", t) and not re.fullmatch(r"[a-z_]+", t)
    }


def test_every_page_for_every_role_of_two_organisations_answers_as_the_api_and_leaks_nothing(site: Site):
    foi = with_foi_requests(site)  # the demo has none: its FOI officers' requests, recorded through the API
    crowd = people(site)
    admin_api = httpx.Client(base_url=site.base_url, headers={"Authorization": f"Bearer {site.server.token('admin', 'AQP-ADMIN')}"}, timeout=60)
    found_by: dict[str, list[str]] = {}
    problems: list[str] = []
    walked = 0
    for person in crowd:
        others = [p for key, paths in found_by.items() if key.startswith(person.role + "|") for p in paths]
        token = site.server.token(person.role, person.org, person.user)
        api = httpx.Client(base_url=site.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        mine: list[str] = []
        with closing(signed_in(site, person)) as client:
            for path, answer in walk(client, others):
                walked += 1
                who = f"{person.role} of {person.org}"
                if answer.status_code >= 500:
                    problems.append(f"{who}: {path} answered {answer.status_code}")
                    continue
                address = api_address(path)
                if address is None:
                    continue
                mine.append(path)
                own = api.get(address)
                if (own.status_code == 200) != (answer.status_code == 200):
                    problems.append(f"{who}: {path} answered {answer.status_code}, the API {address} {own.status_code}")
                    continue
                if answer.status_code != 200:
                    continue
                full = admin_api.get(address)
                if full.status_code != 200:
                    continue
                page = unescape(answer.text)
                leaked = sorted(t for t in withheld(full.json(), own.json()) if t in page)
                if leaked:
                    problems.append(f"{who}: {path} shows what the API withholds: {leaked[:5]}")
        api.close()
        found_by[f"{person.role}|{person.org}"] = mine
    admin_api.close()
    assert walked > 100, f"the walk opened only {walked} pages"
    assert not problems, "\n".join(problems[:30])
    # The FOI officer of the authority that received them walked to its requests; the other's found them not there (above).
    assert f"/app/foi/{foi['overdue']}" in found_by[f"foi_officer|{FOI_AUTHORITY}"], found_by[f"foi_officer|{FOI_AUTHORITY}"]
