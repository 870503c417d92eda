"""`domain.event_view.RecordFacts` given outright, for unit tests of the redaction alone
(the served routes answer them from the ledger: `domain.event_view.LedgerFacts`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import access


@dataclass
class Facts:
    #: whether every competition's tenders are opened
    opened: bool = True
    #: the organisations that commission every home
    commissioners: frozenset[str] = frozenset()
    #: the organisations party to every competition (None: every organisation)
    parties: frozenset[str] | None = None

    def tenders_opened(self, competition_id: Any) -> bool:
        return self.opened

    def sees_competition(self, competition_id: Any, viewer: Any) -> bool:
        return viewer.role not in access.COMPETITION_PARTIES or self.parties is None or viewer.org in self.parties

    def commissioners_of_home(self, location_id: Any) -> frozenset[str]:
        return self.commissioners
