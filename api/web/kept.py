"""Pages kept: a page drawn once is sent again, unchanged, while nothing it could show has changed.

A page is a function of who asks (role, organisation, user), what they ask (the address and
its query), the day (pages say "overdue", "due in 3 days"), and the ledger's state. Every
fact a page shows comes from the events (the read models follow them; an aggregate is its
events), from the erasures (an erased name becomes "[erased]" without a new event) and from
the signed checkpoints (the auditor's home page shows the latest). So the ledger's state is
named by three numbers read in three indexed queries: the log's last position, how many
subjects are erased, how many checkpoints are signed (`LedgerState`). A page drawn at that
state is kept under it and sent again to the same person for the same address on the same
day until any of the three moves; then the key is new and the old entry is never found.

The rule that makes this safe: a page is kept only if, before it read anything, every read
model had followed the log to the position in its key (`state_for_keeping`). A read model
behind the log (its follower in another process, a moment behind) would give a page older
than its key, so such a page is drawn and sent but not kept. The state is read before the
page reads anything, so a page is never older than its key; it may be newer (an event in
between), which only means its key is never asked for again.

A rebuild of a read model (`aqp projections rebuild`) changes its rows but no position: a
server already running sends what it kept until the next event (as it does the answers its
`LedgerService` keeps), and the rebuild says to restart it.

What is NOT kept: anything but a 200 page (errors, downloads), pages for nobody signed in,
and pages whose handler says `opt={"kept": False}`. A page that shows more than the ledger's
state names its handler's `opt={"kept_also": f}`: `f(service)` is read with the state and is
part of the key (verification shows the Merkle log's tip, which its follower moves without a
new event, and checks a signature with the published verifier keys, a file). A request with `Cache-Control: no-cache` (a
browser's hard reload; the benchmark's "drawn" column) is drawn afresh and kept again.

The session's own parts of a page, the form token in its sign-out form and the script nonce
(new on every answer), are kept as markers and filled in for each answer. Every answer says
how it was made in a `Server-Timing` header (`kept` or `drawn`, with its milliseconds).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from litestar import Request

from api.http.tables import today as england_today
from projections.catalogue import READ_MODELS

#: what a page holds in place of the parts that are new on every answer (no page can hold a NUL:
#: every input refuses one, `check_bounds` and the pages' `check_page_request`)
NONCE_MARK = "\x00nonce\x00"
FORM_TOKEN_MARK = "\x00form-token\x00"


@dataclass(frozen=True)
class LedgerState:
    """What names everything a page can show of the ledger: see the module's docstring."""

    position: int
    erasures: int
    checkpoints: int


def ledger_state(service: Any) -> LedgerState:
    return LedgerState(service.ledger.max_position(), service.erasures(), service.checkpoints().count())


def state_for_keeping(service: Any, state: LedgerState) -> bool:
    """Whether every read model has followed the log at least to `state.position` (else a page drawn now may be older)."""
    return all(service.position_of(model) >= state.position for model in READ_MODELS.values())


class KeptPages:
    """The pages kept, least recently sent first out, within a budget of characters."""

    def __init__(self, budget_characters: int) -> None:
        self.budget = budget_characters
        self._pages: OrderedDict[Any, str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def keep(self, key: Any, page: str) -> None:
        if len(page) > self.budget // 8:
            return  # one page may not push out most of the others
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._pages[key] = page
            self._size += len(page)
            while self._size > self.budget and self._pages:
                _, gone = self._pages.popitem(last=False)
                self._size -= len(gone)

    def __len__(self) -> int:
        return len(self._pages)


_made_lock = threading.Lock()


def kept_pages(request: Request[Any, Any, Any]) -> KeptPages | None:
    """This server's kept pages (made on first use), None when `AQP_WEB_KEPT_PAGES_MB` is 0."""
    state = request.app.state
    kept = state.get("kept_pages")
    if kept is None:
        from api.settings import current

        with _made_lock:
            kept = state.get("kept_pages")
            if kept is None:
                megabytes = current().web_kept_pages_mb
                kept = state["kept_pages"] = KeptPages(megabytes * 1_000_000) if megabytes > 0 else False
    return kept if isinstance(kept, KeptPages) else None  # (an empty KeptPages is falsy: it has a length)


def page_key(request: Request[Any, Any, Any], principal: Any, state: LedgerState, also: Any = None) -> tuple[Any, ...]:
    # Parameters sorted by name only: a page reads the first of a repeated one, so its values keep their order.
    query = tuple(sorted(((name, value) for name, value in request.query_params.multi_items()), key=lambda item: item[0]))
    # England's day, as the pages count "overdue" and "days left" (`api.http.tables.today`), not the server's.
    return (request.url.path, query, principal.role, principal.org, principal.user, england_today(), state, also)


def kept_or_marked(request: Request[Any, Any, Any], principal: Any, form_token: str) -> str | None:
    """The page kept for this request (its markers filled in), or None, having marked the request
    to be kept (`keep_drawn`) if it may be. In a worker thread: it reads the database."""
    kept = kept_pages(request)
    opt = request.route_handler.opt
    if kept is None or not form_token or not opt.get("kept", True):
        return None
    service = request.app.state.service
    state = ledger_state(service)
    also = opt.get("kept_also")
    key = page_key(request, principal, state, also(service) if also is not None else None)
    if "no-cache" not in request.headers.get("cache-control", ""):
        page = kept.get(key)
        if page is not None:
            return page.replace(FORM_TOKEN_MARK, form_token)
    if state_for_keeping(service, state):
        request.state.keep_page_as = key
    return None


def keep_drawn(request: Request[Any, Any, Any], page: str, *, nonce: str, form_token: str) -> None:
    """Keep a page just drawn (a 200), if `kept_or_marked` marked its request, with its markers in."""
    key = request.state.get("keep_page_as")
    kept = kept_pages(request)
    if key is None or kept is None or not form_token:
        return
    kept.keep(key, page.replace(nonce, NONCE_MARK).replace(form_token, FORM_TOKEN_MARK))
