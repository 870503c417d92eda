"""Every read model kept in the ledger's own database, by name (one line each)."""

from __future__ import annotations

from projections.cms import CmsList
from projections.competitions import CompetitionList
from projections.compliance import ReturnCompliance
from projections.contract_register import ContractRegister
from projections.evaluation import EvaluationTrail
from projections.event_index import EventIndex
from projections.exceptions import ExceptionReports
from projections.foi import FoiRequests
from projections.past_notices import PastNotices
from projections.placements import Placements
from projections.quality import QualityDashboards
from projections.rag import RagTables
from projections.read_model import TableReadModel

READ_MODELS: dict[str, type[TableReadModel]] = {
    model.name: model
    for model in (
        CompetitionList,
        ContractRegister,
        CmsList,
        Placements,
        EvaluationTrail,
        EventIndex,
        ReturnCompliance,
        QualityDashboards,
        ExceptionReports,
        RagTables,
        FoiRequests,
        PastNotices,
    )
}


def read_model(name: str) -> type[TableReadModel]:
    if name not in READ_MODELS:
        raise KeyError(f"There is no read model called {name}; the read models are {', '.join(sorted(READ_MODELS))}.")
    return READ_MODELS[name]
