"""The public OCDS feed: what the ledger publishes, readable by anybody, without a token.

    GET /ocds/releases?after=POSITION&limit=N   a release package: the releases after a position
    GET /ocds/releases/{release_id}              a release package holding that one release
    GET /ocds/records/{ocid}                     a record package: one contracting process's record

The releases are `audit.ocds`'s, as the world may see them (`domain.access.PUBLIC`): nothing
sealed, withheld or personal. A release's position is the ledger position of the event it
publishes (its id ends with it); pages follow the ledger's order, each with `links.next` while
there are more. The publication is worked out once per ledger position (`LedgerService.answer`),
and the pages' "Publication" tabs (`api.web.publication`) read that same one (`published`).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import PathParameter, QueryParameter

from api.http.problems import ProblemError, problems
from audit.ocds import OCDS_VERSION, PUBLISHER, Publication, publication


class Links(msgspec.Struct, omit_defaults=True):
    #: the next page (absent on the last one)
    next: str | None = None


class ReleasePage(msgspec.Struct, rename="camel", omit_defaults=True):
    """An OCDS 1.1 release package: a page of the releases, in ledger order."""

    uri: str
    version: str
    published_date: str
    publisher: dict[str, str]
    releases: list[dict[str, Any]]
    links: Links
    extensions: list[str] | None = None


class RecordPackage(msgspec.Struct, rename="camel", omit_defaults=True):
    """An OCDS 1.1 record package holding one record (its releases embedded, its compiled release)."""

    uri: str
    version: str
    published_date: str
    publisher: dict[str, str]
    records: list[dict[str, Any]]
    extensions: list[str] | None = None


class ReleasePackage(msgspec.Struct, rename="camel", omit_defaults=True):
    """An OCDS 1.1 release package holding one release."""

    uri: str
    version: str
    published_date: str
    publisher: dict[str, str]
    releases: list[dict[str, Any]]
    extensions: list[str] | None = None


def published(service: Any, prefix: str) -> Publication:
    """The publication as the ledger stands, worked out once per position (the feed's and the pages')."""
    position = service.ledger.max_position()
    return service.answer(("ocds", prefix, position), lambda: publication(service.ledger, prefix=prefix))


def release_by_id(service: Any, prefix: str, release_id: str) -> dict[str, Any] | None:
    """One published release by its id (an index of them kept beside the publication), or None."""
    position = service.ledger.max_position()
    index = service.answer(
        ("ocds-release-ids", prefix, position), lambda: {r.data["id"]: r.data for r in published(service, prefix).releases}
    )
    return index.get(release_id)  # type: ignore[no-any-return]


def _published(request: Request[Any, Any, Any]) -> Publication:
    return published(request.app.state.service, request.app.state.web_settings.ocds_prefix)


def _last_date(releases: list[dict[str, Any]]) -> str:
    return max((r["date"] for r in releases), default="1970-01-01T00:00:00.000000Z")


class OcdsController(Controller):
    path = "/ocds"
    tags = ["ocds"]

    @get("/releases", exclude_from_auth=True, security=[{}], sync_to_thread=True, responses=problems(400, 406, 422),
         summary="OCDS releases (public)",
         description="Every OCDS 1.1.5 release the ledger publishes, in ledger order after a position, as anybody may "
         "see it: no token needed. Tender contents before the opening, unsuccessful bidders, scores, evaluators and "
         "people's personal data are never published.")
    def releases(
        self,
        request: Request[Any, Any, Any],
        after: Annotated[int, QueryParameter(ge=0, le=2**62, description="the last release position already seen (0: from the start)")] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000, description="releases per page")] = 100,
    ) -> ReleasePage:
        published = _published(request)
        later = [r for r in sorted(published.releases, key=lambda r: r.position) if r.position > after]
        page = [r.data for r in later[:limit]]
        more = len(later) > limit
        return ReleasePage(
            uri=str(request.url),
            version=OCDS_VERSION,
            published_date=_last_date(page),
            publisher=dict(PUBLISHER),
            releases=page,
            links=Links(next=f"/ocds/releases?after={later[limit - 1].position}&limit={limit}" if more else None),
            extensions=Publication.extensions_used(page) or None,
        )

    @get("/releases/{release_id:str}", exclude_from_auth=True, security=[{}], sync_to_thread=True, responses=problems(400, 404, 406, 422),
         summary="One OCDS release (public)",
         description="A release package holding the one release with this id (`{ocid}-{position}`), as anybody may see "
         "it: no token needed.")
    def release(
        self,
        request: Request[Any, Any, Any],
        release_id: Annotated[str, PathParameter(max_length=300, description="the release's id, e.g. ocds-aqp000-AQP-CH-2026-42")],
    ) -> ReleasePackage:
        service = request.app.state.service
        found = release_by_id(service, request.app.state.web_settings.ocds_prefix, release_id)
        if found is None:
            raise ProblemError(404, "not_found", f"There is no release {release_id} published.")
        return ReleasePackage(
            uri=str(request.url),
            version=OCDS_VERSION,
            published_date=found["date"],
            publisher=dict(PUBLISHER),
            releases=[found],
            extensions=Publication.extensions_used([found]) or None,
        )

    @get("/records/{ocid:str}", exclude_from_auth=True, security=[{}], sync_to_thread=True, responses=problems(400, 404, 406, 422),
         summary="An OCDS record (public)",
         description="One contracting process's record: every release of it and its compiled release (ocdsmerge's), as "
         "anybody may see it: no token needed.")
    def record(
        self,
        request: Request[Any, Any, Any],
        ocid: Annotated[str, PathParameter(max_length=300, description="the contracting process, e.g. ocds-aqp000-AQP-CH-2026")],
    ) -> RecordPackage:
        record = _published(request).record(ocid)
        if record is None:
            raise ProblemError(404, "not_found", f"There is no contracting process {ocid} published.")
        return RecordPackage(
            uri=str(request.url),
            version=OCDS_VERSION,
            published_date=_last_date(record["releases"]),
            publisher=dict(PUBLISHER),
            records=[record],
            extensions=Publication.extensions_used(record["releases"]) or None,
        )
