"""Performance failures follow the log: a process that records what a contract manager must see.

It reads two kinds of event from the notification log, in order:

- `Location.RatedInadequate` (CQC's overall rating fell to Inadequate): a critical
  performance failure (seed 003 s.2.2.2) on every contract that holds the location at that
  point in the log, caused by `cqc_inadequate:LOCATION:REPORT_DATE`.
- `Return.Missed`: when the same return (location x template, whatever the template
  version) has been missed for three consecutive periods (seed 003 s.3.6), a service
  failure on every contract holding the location, caused by
  `returns_missed:LOCATION/TEMPLATE/FIRST..LAST`. A period already counted in a service
  failure on that contract is not counted again, so six consecutive misses are two service
  failures, not four. A missed return later submitted late still counts: it was not
  submitted "as per the required timescales".

The contracts holding a location are read from the log too (`Contract.HomeAdded` and
`HomeRemoved` up to the event), so a home added to a contract after the rating fell is not
blamed for it. Commands go through `ledger.handle` as the system, caused by the
notification; each failure is recorded once per cause, so re-running from the start records
nothing twice. Its position is kept in `process_positions` by the follower (`api/processes.py`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import structlog
from eventsourcing.utils import get_topic

from domain.kernel.processes import Process
from domain.kernel.errors import NotFound
from domain.monitoring.commands import RecordCriticalFailure, RecordServiceFailure
from domain.contracts.contract import Contract
from domain.monitoring.failures import PerformanceRecord
from domain.kernel.metadata import Actor
from domain.providers.location import Location
from domain.monitoring.returns import Return, ReturnTemplate, return_reference
from domain.monitoring.periods import shift_period

NAME = "performance_failures"
SYSTEM = Actor(id="process:performance_failures", org="aqp-ledger", role="system")
RATED_INADEQUATE = get_topic(Location.RatedInadequate)
RETURN_MISSED = get_topic(Return.Missed)
HOME_ADDED = get_topic(Contract.HomeAdded)
HOME_REMOVED = get_topic(Contract.HomeRemoved)
CONSECUTIVE = 3
log = structlog.get_logger("aqp.process")


class PerformanceFailures(Process):
    NAME = NAME
    TOPICS = (RATED_INADEQUATE, RETURN_MISSED)

    def process(self, event: Any, topic: str, position: int) -> int:
        if topic == RATED_INADEQUATE:
            return self._critical(event, position)
        return self._missed(event, position)

    # ------------------------------------------------------------------ contracts

    def contracts_holding(self, location: str, position: int) -> list[str]:
        """The contracts holding `location` at `position` in the log, read from their home events."""
        holding: set[str] = set()
        for _, topic, event in self.log.events((HOME_ADDED, HOME_REMOVED), stop=position):
            if event.location == location:
                contract = self.ledger.repository.get(event.originator_id, version=event.originator_version).reference
                (holding.add if topic == HOME_ADDED else holding.discard)(contract)
        return sorted(holding)

    def _send(self, command: Any, event: Any, position: int) -> int:
        at = event.timestamp
        try:
            at = max(at, self.ledger.aggregate(PerformanceRecord, command.contract).modified_on)
        except NotFound:
            pass
        result = self.ledger.handle(command, SYSTEM, at=at, business_time=event.timestamp, causation_id=f"notification:{position}")
        if not result.ok:
            log.error("performance_failure_not_recorded", contract=command.contract, code=result.error.code, message=result.error.message)
            return 0
        return 1 if result.value and result.value.get("recorded") else 0

    # ------------------------------------------------------------------ critical

    def _critical(self, event: Any, position: int) -> int:
        location = self.ledger.repository.get(event.originator_id, version=event.originator_version)
        report_date = event.rating.get("report_date") or event.timestamp.date().isoformat()
        recorded = 0
        for contract in self.contracts_holding(location.reference, position):
            command = RecordCriticalFailure(
                contract=contract,
                cause=f"cqc_inadequate:{location.reference}:{report_date}",
                kind="cqc_inadequate",
                location=location.reference,
                description=(
                    f"CQC rated {location.name or location.reference} ({location.reference}) Inadequate overall "
                    f"(report of {report_date}; previously {event.previous_overall or 'not rated'})."
                ),
                occurred_on=date.fromisoformat(report_date[:10]),
            )
            recorded += self._send(command, event, position)
        return recorded

    # ------------------------------------------------------------------ service

    def _was_missed(self, location: str, template: ReturnTemplate, period: str) -> bool:
        for version in range(1, template.latest + 1):
            try:
                ret = self.ledger.aggregate(Return, return_reference(location, template.reference, version, period))
            except NotFound:
                continue
            if ret.missed_on is not None:
                return True
        return False

    def _missed(self, event: Any, position: int) -> int:
        ret: Return = self.ledger.repository.get(event.originator_id, version=event.originator_version)
        template: ReturnTemplate = self.ledger.aggregate(ReturnTemplate, ret.template)
        definition = template.definition_of(ret.template_version)
        around = {
            step: shift_period(definition, ret.period, step) for step in range(-(CONSECUTIVE - 1), CONSECUTIVE)
        }
        missed = {step: step == 0 or self._was_missed(ret.location, template, p) for step, p in around.items()}
        windows = [
            [around[s] for s in range(first, first + CONSECUTIVE)]
            for first in range(-(CONSECUTIVE - 1), 1)
            if all(missed[s] for s in range(first, first + CONSECUTIVE))
        ]
        if not windows:
            return 0
        recorded = 0
        for contract in self.contracts_holding(ret.location, position):
            try:
                counted = self.ledger.aggregate(PerformanceRecord, contract).missed_periods_recorded(ret.location, ret.template)
            except NotFound:
                counted = set()
            for periods in windows:
                if counted & set(periods):
                    continue
                command = RecordServiceFailure(
                    contract=contract,
                    cause=f"returns_missed:{ret.location}/{ret.template}/{periods[0]}..{periods[-1]}",
                    location=ret.location,
                    template=ret.template,
                    periods=periods,
                    description=(
                        f"The {ret.template} return of {ret.location} was not submitted by its deadline for "
                        f"{CONSECUTIVE} consecutive periods ({', '.join(periods)}): a service failure (seed 003 s.3.6)."
                    ),
                )
                sent = self._send(command, event, position)
                recorded += sent
                if sent:
                    counted |= set(periods)
        return recorded

