"""The read models as lists (issue 7): the CMS list, returns and compliance, KPIs, quality
dashboards, exceptions, placements, RAG tables and the event index.

Each list is a `tables.Table` read in SQL (filters, search, sort, page and count pushed into
the read model's own query; see `api/http/tables.py`), so the CMS list at national scale
(~15,000 homes) or the event index (one row per event) answer a page without reading the
table. Its route is declared with its resource's Controller, with the roles that may use it
(a group of `domain.access`): here those of KPIs, quality dashboards, exceptions,
placements and RAG tables; the CMS list's and home-care's in `homes.py`, return
compliance's in `returns.py`, the event index's in `audit_routes.py`. Within a route (the
policies of `domain.access`):

- a provider sees only the rows of its own homes: those whose CQC location id it acts as, or,
  acting as a head office (its CQC provider id), the homes the CMS list shows under it now;
  aggregate lists (areas, usage, RAG) are not for providers at all;
- the CMS list's `open_concerns` (a count of safeguarding concerns shared with commissioners)
  is shown only to those who see concerns (`access.sees_concerns`: commissioners, contract
  managers, auditors, admins): for everybody else it is null and sorting on it keeps the
  natural order;
- tenders are sealed to everyone, auditors included, until their competition's tenders are
  opened: the event index itself holds those events back until the opening
  (`projections/event_index.py`), so its routes need no condition of their own (which
  would read the competition list on every request).

**The CMS list on the day asked.** The read model has no clock, so what depends on the day is
asked here, with today's date in England (or the day of `as_of`), by the rules of
`domain.providers.vacancies` (`suspension_in_force`, `report_stale`), and said again as SQL
conditions for the filters (`in_force`, `stale_cutoff`; `tests/integration/test_table_conditions.py`
checks the two agree row by row):
- `?suspended=yes|no` and the column `suspension_in_force`: a voluntary suspension is in force
  when it is recorded and not lifted (`suspended` "yes"), has started (suspended_from <= the
  day) and has not lapsed (no suspended_until, or the day <= suspended_until);
- `vacancy_report_age_days`: days between the day the latest vacancy report is for and the
  day asked; `vacancies_stale`: "yes" when that is more than `STALE_AFTER_DAYS` (3 by
  default, `AQP_VACANCIES_STALE_AFTER_DAYS`: homes report daily, and a Friday report read on
  Monday is still the latest a home that does not report at weekends has), null when the
  home never reported; `?stale=no` keeps homes whose report is fresh.
- `?vacancies=<bed type>`: homes whose latest report has at least one vacancy of that type
  (`any`: of any type). Combine with `stale=no` for vacancies that are likely still there.
All of these are SQL conditions (comparisons of ISO dates as text), not filters after reading.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller

from api.http.tables import Conditions, Param, Table, row_struct, table_route
from api.tokens import Principal
from api.settings import current as current_settings
from domain import access
from domain.event_view import withheld_events
from domain.kernel.metadata import Actor
from domain.providers import vacancies
from domain.providers.location import BED_TYPES
from projections import cms, compliance, event_index, exceptions, placements, quality, rag
from projections.cms import CmsList
from projections.compliance import ReturnCompliance
from projections.event_index import EventIndex
from projections.exceptions import ExceptionReports
from projections.views import Mask
from projections.placements import Placements
from projections.quality import QualityDashboards
from projections.rag import RagTables

STALE_AFTER_DAYS = current_settings().vacancies_stale_after_days


# ------------------------------------------------------------------ scoping


def own_locations(service: Any, principal: Principal) -> list[str]:
    """The CQC location ids a provider acts for: itself as a home, or a head office's homes now."""
    homes = service.view(CmsList).select(cms.HOMES.name, where={"provider": principal.org}, columns=("location",))
    return sorted({principal.org, *(h["location"] for h in homes if h["location"])})


def provider_homes(service: Any, principal: Principal) -> Conditions | None:
    """Rows about the provider's own homes (other roles: every row)."""
    if not access.sees_only_its_own(principal.actor()):
        return None
    return Conditions({"location": ("in", own_locations(service, principal))})


def provider_scopes(service: Any, principal: Principal) -> Conditions | None:
    """Summary rows for the provider itself or its homes (scope home/provider), for a provider."""
    if not access.sees_only_its_own(principal.actor()):
        return None
    return Conditions({"scope": ("in", ["home", "provider"]), "scope_id": ("in", own_locations(service, principal))})


def sql_table(row_name: str, read_model: Any, spec: Any, *, extra: tuple[tuple[str, Any], ...] = (), **options: Any) -> Table:
    """A route's table over one of a read model's tables (`spec`), filtered, sorted and paged in SQL;
    its rows are the spec's shown columns (and `extra`, worked out per request)."""
    return Table(row=row_struct(row_name, spec, extra=extra), read_model=read_model, table=spec.name, in_sql=True, **options)


def equal(column: str) -> Any:
    return lambda value, _day: Conditions({column: value})


# ------------------------------------------------------------------ the CMS list


def in_force(day: date) -> Conditions:
    iso = day.isoformat()
    return Conditions(
        {"suspended": "yes", "suspended_from": ("<=", iso)},
        (({"suspended_until": None}, {"suspended_until": (">=", iso)}),),
    )


def not_in_force(day: date) -> Conditions:
    iso = day.isoformat()
    return Conditions(any_of=((
        {"suspended": ("!=", "yes")}, {"suspended_from": None}, {"suspended_from": (">", iso)}, {"suspended_until": ("<", iso)},
    ),))


def stale_cutoff(day: date) -> str:
    return vacancies.stale_before(day, STALE_AFTER_DAYS)


def on_the_day(_principal: Principal, row: dict[str, Any], day: date) -> dict[str, Any]:
    """The CMS row's columns that depend on the day asked about (the rules of `domain.providers.vacancies`)."""
    suspended = vacancies.suspension_in_force(
        day, first_day=row.get("suspended_from"), last_day=row.get("suspended_until"), lifted=row.get("suspended") != "yes"
    )
    reported = row.get("vacancies_day")
    return {
        **row,
        "suspension_in_force": "yes" if suspended else "no",
        "vacancy_report_age_days": vacancies.report_age_days(reported, day) if reported else None,
        "vacancies_stale": None if not reported else ("yes" if vacancies.report_stale(reported, day, STALE_AFTER_DAYS) else "no"),
    }


CMS_PARAMS = (
    Param("name", "homes whose name contains this (any case)", lambda v, _d: Conditions({"name": ("contains", v)})),
    Param("directorate", "the commissioners' area or directorate (commissioning_area)", equal("commissioning_area")),
    Param("rating", "CQC's overall rating, e.g. Good", equal("overall_rating")),
    Param(
        "vacancies",
        "homes whose latest vacancy report has at least one vacancy of this bed type (any: of any type)",
        lambda v, _d: Conditions({"vacancies_total" if v == "any" else f"vacancies_{v}": (">", 0)}),
        choices=(*BED_TYPES, "any"),
    ),
    Param(
        "suspended",
        "yes: a voluntary suspension of placements is in force on the day (today, or as_of's); no: none is",
        lambda v, d: in_force(d) if v == "yes" else not_in_force(d),
        choices=("yes", "no"),
    ),
    Param(
        "stale",
        f"no: the vacancy report is at most {STALE_AFTER_DAYS} days old; yes: older (homes that never reported match neither)",
        lambda v, d: Conditions({"vacancies_day": ("<", stale_cutoff(d)) if v == "yes" else (">=", stale_cutoff(d))}),
        choices=("yes", "no"),
    ),
)
DAY_COLUMNS = (("suspension_in_force", str), ("vacancy_report_age_days", int | None), ("vacancies_stale", str | None))
LOCATIONS = sql_table(
    "LocationRow", CmsList, cms.HOMES,
    extra=DAY_COLUMNS,
    filters=(
        "location", "provider", "postcode_district", "local_authority", "icb", "icb_code", "region", "commissioning_area",
        "category", "overall_rating", "care_home", "nursing", "dementia", "registration_status", "on_framework",
    ),
    search=("name", "location", "postcode", "town", "provider_brand", "local_authority"),
    params=CMS_PARAMS,
    sql_scope=provider_homes,
    restricted={"open_concerns": access.sees_concerns},
    shape=on_the_day,
)
HOME_CARE = sql_table(
    "HomeCareRow", CmsList, cms.HOME_CARE,
    filters=("location", "provider", "postcode_district", "local_authority", "icb", "commissioning_area", "overall_rating",
             "registration_status", "on_framework", "accepting_new_packages", "suspended"),
    search=("name", "location", "provider_brand", "local_authority"),
    params=(CMS_PARAMS[1], CMS_PARAMS[2]),
    sql_scope=provider_homes,
    restricted={"open_concerns": access.sees_concerns},
)

# ------------------------------------------------------------------ returns, KPIs, quality, exceptions

def period_range(column: str = "period") -> tuple[Param, Param]:
    return (
        Param("period_from", "rows of this period or later (e.g. 2026-04)", lambda v, _d: Conditions({column: (">=", v)})),
        Param("period_to", "rows of this period or earlier (e.g. 2027-03)", lambda v, _d: Conditions({column: ("<=", v)})),
    )


RECEIVED = Param(
    "received",
    "no: not received by its deadline nor since (missed, or overdue); yes: received (on time or late)",
    lambda v, _d: Conditions({"status": ("in", ["on_time", "late"] if v == "yes" else ["missed", "overdue"])}),
    choices=("yes", "no"),
)

RETURN_COMPLIANCE = sql_table(
    "ReturnComplianceRow", ReturnCompliance, compliance.RETURNS,
    filters=("location", "provider", "template", "period", "year", "status", "on_time", "within_three_months", "icb",
             "local_authority", "directorate"),
    search=("location", "frameworks"),
    params=(RECEIVED, *period_range()),
    sql_scope=provider_homes,
)
COMPLIANCE_SUMMARY = sql_table(
    "ComplianceSummaryRow", ReturnCompliance, compliance.SUMMARY,
    filters=("scope", "scope_id", "template", "span", "period", "year"),
    sql_scope=provider_scopes,
)
MISSED_RUNS = sql_table(
    "MissedRunRow", ReturnCompliance, compliance.RUNS,
    filters=("location", "provider", "template", "service_failure"),
    sql_scope=provider_homes,
)
KPIS = sql_table(
    "KpiRow", ReturnCompliance, compliance.KPIS,
    filters=("scope", "scope_id", "template", "span", "period", "year", "kpi_set", "kpi", "outcome"),
    sql_scope=provider_scopes,
)
QUALITY_SERIES = sql_table(
    "QualitySeriesRow", QualityDashboards, quality.SERIES,
    filters=("location", "provider", "icb", "directorate", "template", "section", "metric", "period", "amended"),
    search=("home_name", "label"),
    params=period_range(),
    sql_scope=provider_homes,
)
QUALITY_AREAS = sql_table(
    "QualityAreaRow", QualityDashboards, quality.AREAS,
    filters=("level", "area", "template", "section", "metric", "period"),
    search=("area", "label"),
    params=period_range(),
)
EXCEPTIONS = sql_table(
    "ExceptionRow", ExceptionReports, exceptions.EXCEPTIONS,
    filters=("location", "provider", "icb", "directorate", "kind", "template", "metric", "period", "status"),
    search=("home_name", "detail"),
    sql_scope=provider_homes,
)

# ------------------------------------------------------------------ placements and RAG

PLACEMENT_USAGE = sql_table(
    "PlacementUsageRow", Placements, placements.USAGE,
    filters=("framework", "commissioner", "period"),
)
RATE_EXCEPTIONS = sql_table(
    "RateExceptionRow", Placements, placements.RATE_EXCEPTIONS,
    filters=("framework", "location", "commissioner", "period", "bed_type", "explained", "home_on_framework"),
    search=("home", "placement"),
    sql_scope=provider_homes,
)
NON_FRAMEWORK_HOMES = sql_table(
    "NonFrameworkHomeRow", Placements, placements.NON_FRAMEWORK,
    filters=("framework", "location"),
    search=("home",),
)
RAG_TABLE = sql_table(
    "RagRow", RagTables, rag.TABLE,
    filters=("category", "category_code", "year"),
)
RAG_VISITS = sql_table(
    "RagVisitRow", RagTables, rag.VISITS,
    filters=("location", "category", "year", "rag", "counted"),
    search=("home_name",),
    sql_scope=provider_homes,
)

# ------------------------------------------------------------------ the event index

INDEX_AS_OF = "column:recorded_at"


def who_withheld(viewer: Actor) -> Mask | None:
    """Who did the events whose content is withheld from the viewer, and their request ids: null
    (the one redaction of events, `domain.event_view`; sealed tenders are not in the index yet)."""
    withheld = withheld_events(viewer)
    if not withheld:
        return None
    return Mask(frozenset(event_index.SAYS_WHO), tuple({"kind": kind, "event": names} for kind, names in withheld.items()))


#: the records the index lists for nobody (`access.NOT_INDEXED_KINDS`: another authority's FOI requests)
INDEXED = Conditions(where={"kind": ("not in", list(access.NOT_INDEXED_KINDS))})


def index_seen(_service: Any, _principal: Principal) -> Conditions:
    return INDEXED


def subjects_seen(_service: Any, principal: Principal) -> Conditions:
    """Not the subjects named in the content of an event whose content is withheld from the
    viewer (an evaluator, the bidder scored); the record it belongs to stays. Never a record
    the index lists for nobody."""
    withheld = withheld_events(principal.actor())
    if not withheld:
        return INDEXED
    return INDEXED & Conditions(any_of=tuple(
        ({"named": 0}, {"kind": ("!=", kind)}, {"event": ("not in", list(names))}) for kind, names in withheld.items()
    ))


EVENTS_INDEX = sql_table(
    "IndexedEventRow", EventIndex, event_index.EVENTS,
    filters=("actor", "actor_org", "actor_role", "kind", "reference", "event", "command", "correlation_id", "causation_id"),
    as_of=INDEX_AS_OF, mask=who_withheld, sql_scope=index_seen,
)
EVENT_SUBJECTS = sql_table(
    "EventSubjectRow", EventIndex, event_index.SUBJECTS,
    filters=("subject", "subject_kind", "relation", "kind", "reference", "event"),
    as_of=INDEX_AS_OF, sql_scope=subjects_seen,
)


# ------------------------------------------------------------------ the routes of the monitoring read models
# (the CMS list and home-care are the homes' (api/http/homes.py), return compliance the returns'
# (api/http/returns.py), the event index the audit's (api/http/audit_routes.py))


class KpisController(Controller):
    path = "/kpis"

    list_kpis = table_route(
        "/", KPIS, roles=access.MONITORING_READERS, summary="Return KPIs against their targets, by scope",
        description="The KPIs judged, each only for the returns of homes whose framework's monitoring names its KPI set (kpi_set): "
        "London's (returns by deadline >= 75%, within three months > 95%) and Cheshire East's (timeliness >= 95% per compliance "
        "summary row; per home, outcomes reviews >= 95% each quarter, continuity >= 85%, rostering >= 90%, Safe, Caring and "
        "Well-led >= 95% from the annual return, accuracy >= 95% from the Council's spot checks): value, target, outcome "
        "(met | breached), margin. A framework naming no KPI set has no rows: it is not monitored by KPIs. Filter by scope "
        "(home, provider, icb, local_authority, directorate, framework, all) and scope_id. A provider sees its own and its homes' rows.",
    )


class QualityDashboardsController(Controller):
    path = "/dashboards/quality"

    list_quality = table_route(
        "/", QUALITY_SERIES, roles=access.MONITORING_READERS, summary="Quality dashboards per home: every metric of every return over time",
        description="One row per home, template, metric and period (projections/quality.py), with the rate per 1,000 registered bed-days "
        "where the metric counts events. Aggregates per ICB/CCG, directorate, framework and overall: /dashboards/quality/areas. "
        "A provider sees its own homes only.",
    )
    list_quality_areas = table_route(
        "/areas", QUALITY_AREAS, roles=access.AGGREGATE_READERS, summary="Quality dashboards per ICB/CCG, directorate, framework and overall",
        description="One row per level (icb | directorate | framework | all), area, metric and period: homes reporting, total, mean, "
        "bed-days and rate per 1,000 bed-days.",
    )


class ExceptionsController(Controller):
    path = "/exceptions"

    list_exceptions = table_route(
        "/", EXCEPTIONS, roles=access.MONITORING_READERS, summary="Exception reports: manager changes, sharp rises and falls, homes not reporting, CQC downgrades",
        description="One row per exception (projections/exceptions.py), open or cleared; `kind` is one of manager_changed, sharp_rise, "
        "sharp_fall, not_reporting, cqc_downgrade. A provider sees its own homes only.",
    )


class PlacementsController(Controller):
    path = "/placements"

    list_usage = table_route(
        "/usage", PLACEMENT_USAGE, roles=access.AGGREGATE_READERS, summary="Framework usage by commissioner and month",
        description="Placements started, ended, active and open at month end; weekly and month spend in pence (projections/placements.py).",
    )
    list_rate_exceptions = table_route(
        "/rate-exceptions", RATE_EXCEPTIONS, roles=access.MONITORING_READERS, summary="Placements paid a rate other than the framework's",
        description="One row per placement and month whose weekly rate differs from the framework's price for its bed type on its pricing "
        "day; home_on_framework \"no\" rows are spot purchases. A provider sees its own homes only.",
    )
    list_non_framework_homes = table_route(
        "/non-framework-homes", NON_FRAMEWORK_HOMES, roles=access.AGGREGATE_READERS, summary="Homes off the framework charging the framework's rate",
        description="Seed 000 s.3.4: homes to invite onto the framework.",
    )


class RagController(Controller):
    path = "/rag"

    list_rag = table_route(
        "/", RAG_TABLE, roles=access.AGGREGATE_READERS, summary="RAG tables: quality-visit outcomes by category of home and year",
        description="Red, amber and green counts per category and financial year, with the change over homes visited in both years "
        "(projections/rag.py, seed 004).",
    )
    list_visits = table_route(
        "/visits", RAG_VISITS, roles=access.MONITORING_READERS, summary="Concluded quality visits, one row each",
        description="The visit's RAG outcome, percent and indicators below standard; counted \"yes\" for the visit giving the home's "
        "outcome for the year. A provider sees its own homes only.",
    )
