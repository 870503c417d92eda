"""What a kept page is kept under (`api.web.kept.page_key`): the day as the pages count it, and
the address's values in the order the page reads them."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone

from litestar import Request

from api.http.tables import today
from api.tokens import Principal
from api.web.kept import LedgerState, page_key

PRINCIPAL = Principal(user="j.okafor", org="NEL-CSU", role="procurement_lead", token_id="tok_1")
STATE = LedgerState(position=10, erasures=0, checkpoints=1)


def request_for(path: str, query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                    "headers": [], "scheme": "http", "server": ("aqp.test", 80), "root_path": "", "app": None})


@contextmanager
def process_time_zone(name: str) -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_a_page_is_kept_under_englands_day_whatever_the_servers_time_zone():
    # Thirteen or more hours from London one way or the other: at any moment one of them is on another day.
    zone = "Etc/GMT-14" if datetime.now(timezone.utc).hour >= 10 else "Etc/GMT+12"
    with process_time_zone(zone):
        assert date.today() != today(), "the chosen zone is on England's day; the test shows nothing"
        key = page_key(request_for("/app/foi", ""), PRINCIPAL, STATE)
    # The FOI pages say "overdue" and "3 working days left" by England's day (`api.http.tables.today`).
    assert today() in key


def test_the_same_values_in_another_order_are_another_page():
    first = page_key(request_for("/app/competitions/AQP-CH-2026/defence-pack", "bidder=aster-care-homes&bidder=damson-healthcare"),
                     PRINCIPAL, STATE)
    second = page_key(request_for("/app/competitions/AQP-CH-2026/defence-pack", "bidder=damson-healthcare&bidder=aster-care-homes"),
                      PRINCIPAL, STATE)
    # The page reads the first `bidder`, so these are two bidders' reports.
    assert request_for("/", "bidder=a&bidder=b").query_params.get("bidder") == "a"
    assert first != second
    # Different parameters in another order are the same page.
    assert page_key(request_for("/app/foi", "stage=open&q=FOI"), PRINCIPAL, STATE) == page_key(
        request_for("/app/foi", "q=FOI&stage=open"), PRINCIPAL, STATE)
