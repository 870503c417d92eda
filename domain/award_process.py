"""Contracts follow awards: a process that reads the log and awards each contract once.

For every `Competition.AwardConcluded` it sends `contract.award` for each lot and successful
bidder, as the system, caused by that event. Contract references are derived from the award
(`COMPETITION/LOT/BIDDER`), so re-running creates nothing twice even if the process died
between awarding and recording its position. Its position is kept in `process_positions`.
"""

from __future__ import annotations

from typing import Any

import structlog

from audit.log import SqlStore
from domain.contract_commands import AwardContract
from domain.contracts import Framework
from domain.metadata import Actor
from domain.procurement import Competition

NAME = "contracts_from_awards"
SYSTEM = Actor(id="process:contracts_from_awards", org="aqp-ledger", role="system")
AWARD_TOPIC = "domain.procurement:Competition.AwardConcluded"
log = structlog.get_logger("aqp.process")


class ContractsFromAwards:
    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.store = SqlStore(ledger)
        self.table = self.store.table("process_positions")
        self._running = False
        if not self.store.table_exists("process_positions"):
            with self.store.transaction(commit=True) as sql:
                sql.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (name TEXT PRIMARY KEY, position BIGINT NOT NULL)")

    def position(self) -> int:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(f"SELECT position FROM {self.table} WHERE name = ?", (NAME,))
        return int(rows[0]["position"]) if rows else 0

    def _record_position(self, position: int) -> None:
        with self.store.transaction(commit=True) as sql:
            if sql.query(f"SELECT 1 AS x FROM {self.table} WHERE name = ?", (NAME,)):
                sql.execute(f"UPDATE {self.table} SET position = ? WHERE name = ?", (position, NAME))
            else:
                sql.execute(f"INSERT INTO {self.table} (name, position) VALUES (?, ?)", (NAME, position))

    def __call__(self, _recordings: Any = None) -> int:
        # The contracts it awards are themselves saved commands: don't re-enter from their hooks.
        if self._running:
            return 0
        self._running = True
        try:
            return self.run()
        finally:
            self._running = False

    def run(self) -> int:
        """Award the contracts of every award not yet processed; returns how many were created."""
        created = 0
        position = self.position()
        while True:
            notifications = self.ledger.recorder.select_notifications(
                start=position, limit=500, topics=[AWARD_TOPIC], inclusive_of_start=False
            )
            for notification in notifications:
                created += self._award_contracts(self.ledger.mapper.to_domain_event(notification), notification.id)
                position = notification.id
                self._record_position(position)
            if len(notifications) < 500:
                return created

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
