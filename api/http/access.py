"""The authorisation matrix: which roles may use each route (one row per route).

Route guards take their roles from here, and the table-driven test walks every route of the
app against every role, so a route cannot be added without a row, and the matrix cannot say
one thing while the guards do another. Within a route, data scoping narrows further what a
role sees (a provider only its own organisation's records; an evaluator only the bids of
the panels they sit on); what a principal may not see is answered 404, as if absent.

A command route's roles are the dispatcher's (`domain.dispatch.HANDLERS`), so the HTTP layer
and the domain cannot disagree about who may send what; `POST /commands` takes every
command, and the dispatcher refuses a role that may not send it (403).
"""

from __future__ import annotations

import domain.application  # noqa: F401 - registers every command handler (and its roles)
from domain.access import (
    AGGREGATE_READERS,
    ALL_ROLES,
    FEED_READERS,
    INDEX_READERS,
    MONITORING_READERS,
    NOT_EVALUATORS,
    PROOF_READERS,
)
from domain.kernel import command_types as c
from domain.kernel.dispatch import HANDLERS
from domain.monitoring import commands as rc
from domain.procurement import commands as commands_mod
from domain.providers import commands as pc

ALL = ALL_ROLES


def command_roles(command_type: type[c.Command]) -> tuple[str, ...]:
    return HANDLERS[command_type][0]


ROUTE_ROLES: dict[str, tuple[str, ...]] = {
    "POST /commands": ALL,
    "POST /locations/{location:str}/vacancies": command_roles(pc.ReportVacancies),
    "POST /returns": command_roles(rc.SubmitReturn),
    "POST /competitions/{reference:str}/tenders": command_roles(commands_mod.SubmitTender),
    "GET /competitions": ALL,
    "GET /competitions/{reference:str}": ALL,
    "GET /frameworks/{reference:str}": ALL,
    "GET /contracts": NOT_EVALUATORS,
    "GET /contracts/{reference:path}": NOT_EVALUATORS,
    "GET /providers/{reference:str}": ALL,
    "GET /locations/{reference:str}": ALL,
    "GET /returns/{location:str}/{template:str}/{version:int}/{period:str}": MONITORING_READERS,
    "GET /placement-returns/{location:str}/{period:str}": MONITORING_READERS,
    # The read models (api/http/read_models.py); each scopes further (a provider: its own homes).
    "GET /locations": ALL,
    "GET /home-care": ALL,
    "GET /returns/compliance": MONITORING_READERS,
    "GET /returns/compliance/summary": MONITORING_READERS,
    "GET /returns/missed-runs": MONITORING_READERS,
    "GET /kpis": MONITORING_READERS,
    "GET /dashboards/quality": MONITORING_READERS,
    "GET /dashboards/quality/areas": AGGREGATE_READERS,
    "GET /exceptions": MONITORING_READERS,
    "GET /placements/usage": AGGREGATE_READERS,
    "GET /placements/rate-exceptions": MONITORING_READERS,
    "GET /placements/non-framework-homes": AGGREGATE_READERS,
    "GET /rag": AGGREGATE_READERS,
    "GET /rag/visits": MONITORING_READERS,
    # Every role passes the guard; who is not on the trail's readers (or on a panel of the
    # competition, for an evaluator) is answered 404, as if there were no such competition.
    "GET /competitions/{reference:str}/evaluation": ALL,
    "GET /audit/index": INDEX_READERS,
    "GET /audit/subjects": INDEX_READERS,
    "GET /audit/checkpoints": ALL,
    "GET /audit/proofs/{position:int}": PROOF_READERS,
    "GET /events": FEED_READERS,
    "GET /whoami": ALL,
}
