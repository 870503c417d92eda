"""Contracts follow awards: a process that awards each contract of an award once.

For every `Competition.AwardConcluded` it sends `contract.award` for each lot and successful
bidder, as the system, caused by that event. Contract references are derived from the award
(`COMPETITION/LOT/BIDDER`), so re-running creates nothing twice even if the process died
between awarding and recording its position (kept in `process_positions` by the follower,
`api/processes.py`).
"""

from __future__ import annotations

from typing import Any

import structlog
from eventsourcing.utils import get_topic

from domain.contracts.commands import AwardContract
from domain.contracts.framework import Framework
from domain.kernel.metadata import Actor
from domain.kernel.processes import Process
from domain.procurement.competition import Competition

NAME = "contracts_from_awards"
SYSTEM = Actor(id="process:contracts_from_awards", org="aqp-ledger", role="system")
AWARD_TOPIC = get_topic(Competition.AwardConcluded)
log = structlog.get_logger("aqp.process")


class ContractsFromAwards(Process):
    NAME = NAME
    TOPICS = (AWARD_TOPIC,)

    def process(self, event: Any, topic: str, position: int) -> int:
        return self._award_contracts(event, position)

    def _award_contracts(self, event: Any, position: int) -> int:
        competition: Competition = self.ledger.repository.get(event.originator_id, version=event.originator_version)
        if competition.framework is None:
            return 0  # a competition outside any framework awards no call-off contracts
        framework: Framework = self.ledger.aggregate(Framework, competition.framework)
        assert framework.starts_on and framework.ends_on
        awarded_on = event.timestamp.date()
        created = 0
        for lot, bidders in sorted(event.awards.items()):
            cap = competition.lots.get(lot, {}).get("value_cap_pence")
            for bidder in bidders:
                command = AwardContract(
                    contract=f"{competition.reference}/{lot}/{bidder}",
                    framework=framework.reference,
                    competition=competition.reference,
                    lot=lot,
                    provider=bidder,
                    value=cap or 0,
                    starts_on=max(framework.starts_on, awarded_on),
                    ends_on=framework.ends_on,
                )
                # Recorded now-or-later, never before the framework's last change; the award's
                # time is the business time.
                at = max(event.timestamp, framework.modified_on)
                result = self.ledger.handle(
                    command, SYSTEM, at=at, business_time=event.timestamp, causation_id=f"notification:{position}"
                )
                if result.ok:
                    created += 1
                elif result.error.code != "contract_exists":
                    log.error("contract_not_awarded", contract=command.contract, code=result.error.code, message=result.error.message)
        return created
