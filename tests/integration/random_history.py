"""Random but well-formed command histories, for the tests of the read-model machinery.

A history is a list of steps. A command step names an operation on one of a few
competitions or contracts (open, publish criteria, submit, open tenders, cancel; award,
sign, mobilise, vary, extend, escalate, de-escalate, suspend and resume referrals, notify a
change of control, novate, terminate, expire) and how many hours pass before it. The
commands are the real ones, sent through `Ledger.handle`; whether the domain accepts one
depends on what came before (a contract signed before it is awarded is refused), and the
history keeps every outcome so a test knows what was stored and what was refused. A
catch-up step says which read models catch up, and in pages of what size.

Two nudges keep random histories eventful instead of mostly refused: a step on a
competition or contract the ledger has not accepted yet opens or awards it instead, and an
escalation names the stage after the last one the ledger accepted for that contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from domain.procurement import commands as c
from domain.kernel import command_types
from domain.contracts import commands as k
from domain.contracts.framework import LADDERS
from domain.kernel.metadata import Actor

FRAMEWORK = "RND-FW-2026"
LADDER = "nottingham"
COMPETITIONS = ("RND-COMP-A", "RND-COMP-B", "RND-COMP-C")
CONTRACTS = tuple(f"{FRAMEWORK}/NCL/provider-{i}" for i in range(4))
BIDDERS = ("aster-care", "birch-care", "cedar-care")
START = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)

COMMISSIONER = Actor(id="u-commissioner", org="ICB-NCL", role="commissioner")
LEAD = Actor(id="u-lead", org="ICB-NCL", role="procurement_lead")
MANAGER = Actor(id="u-contract-manager", org="ICB-NCL", role="contract_manager")

# Repeated names are drawn more often: ends (cancel, terminate, expire) are rare, so most
# histories have live competitions and contracts for the other commands to change.
COMPETITION_OPS = ("open",) * 3 + ("criteria",) * 3 + ("tender",) * 4 + ("withdraw", "open_tenders", "open_tenders", "cancel")
CONTRACT_OPS = (
    ("award",) * 3 + ("sign",) * 3 + ("mobilise",) * 2 + ("vary",) * 3 + ("extend",) * 2 + ("escalate",) * 3
    + ("de_escalate",) * 2 + ("suspend",) * 2 + ("resume",) * 2 + ("change_of_control", "novate", "terminate", "expire")
)


@dataclass(frozen=True)
class Command:
    target: str  # "competition" | "contract"
    op: str
    index: int
    hours: int
    amount: int


@dataclass(frozen=True)
class CatchUp:
    page_size: int
    #: which read models catch up (indexes into the catalogue, taken modulo its length)
    which: tuple[int, ...]


Step = Command | CatchUp

commands = st.builds(
    Command,
    target=st.just("competition"),
    op=st.sampled_from(COMPETITION_OPS),
    index=st.integers(0, len(COMPETITIONS) - 1),
    hours=st.integers(1, 24 * 6),
    amount=st.integers(-50_000, 200_000),
) | st.builds(
    Command,
    target=st.just("contract"),
    op=st.sampled_from(CONTRACT_OPS),
    index=st.integers(0, len(CONTRACTS) - 1),
    hours=st.integers(1, 24 * 6),
    amount=st.integers(-50_000, 200_000),
)
catch_ups = st.builds(
    CatchUp,
    page_size=st.sampled_from((1, 2, 3, 5, 8, 1000)),
    which=st.lists(st.integers(0, 7), min_size=1, max_size=3, unique=True).map(tuple),
)
steps = st.lists(commands | catch_ups, min_size=3, max_size=40)


def framework_command() -> command_types.Command:
    return k.EstablishFramework(
        framework=FRAMEWORK,
        title="Random history framework",
        kind="care_homes",
        lots=[k.FrameworkLot(id="NCL", name="North Central London")],
        commissioners=[k.Commissioner(org="ICB-NCL", kind="icb")],
        starts_on=START.date(),
        ends_on=(START + timedelta(days=4 * 365)).date(),
        regime="pa2023",
        escalation_ladder=LADDER,
        max_extension_months=24,
    )


@dataclass
class History:
    """The commands sent so far, their outcomes and the ledger's clock."""

    ledger: Any
    at: datetime = START
    stored: int = 0
    refused: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    stages: dict[str, int] = field(default_factory=dict)
    exists: set[str] = field(default_factory=set)

    def start(self) -> None:
        result = self.ledger.handle(framework_command(), COMMISSIONER, at=self.at)
        assert result.ok, result.error
        self.stored += len(result.events)

    def send(self, step: Command) -> Any:
        self.at += timedelta(hours=step.hours)
        ref = (COMPETITIONS if step.target == "competition" else CONTRACTS)[step.index]
        if ref not in self.exists:
            step = Command(step.target, "open" if step.target == "competition" else "award", step.index, step.hours, step.amount)
        actor, command = self.command(step)
        result = self.ledger.handle(command, actor, at=self.at)
        name = f"{step.target}.{step.op}"
        if result.ok:
            self.exists.add(ref)
            self.accepted.append(name)
            self.stored += len(result.events)
            if step.op == "escalate":
                self.stages[command.contract] = self.stages.get(command.contract, -1) + 1
            elif step.op == "de_escalate":
                self.stages[command.contract] -= 1
        else:
            # A refusal is the domain's answer, never a crash, and stores nothing.
            assert result.error is not None and result.error.code and not result.events
            self.refused.append(f"{name}: {result.error.code}")
        return result

    def command(self, step: Command) -> tuple[Actor, command_types.Command]:
        today = self.at.date()
        if step.target == "competition":
            ref = COMPETITIONS[step.index]
            bidder = Actor(id=f"u-{BIDDERS[step.index]}", org=BIDDERS[step.index], role="provider")
            if step.op == "open":
                return LEAD, c.OpenCompetition(
                    competition=ref, title=f"Round {ref}", procedure="light_touch", standstill_regime="pa2023",
                    lots=[c.LotSpec(id="NCL", name="North Central London")],
                    clarification_deadline=self.at + timedelta(days=10), tender_deadline=self.at + timedelta(days=20),
                )
            if step.op == "criteria":
                return LEAD, c.PublishCriteria(
                    competition=ref,
                    criteria=[
                        c.CriterionSpec(id="T1", title="Quality", panel="technical", weight=60, max_score=10),
                        c.CriterionSpec(id="F1", title="Price", panel="financial", weight=40, max_score=10),
                    ],
                    financial_thresholds=c.FinancialThresholds(),
                )
            if step.op == "tender":
                return bidder, c.SubmitTender(
                    competition=ref, lots=["NCL"], content_sha256=f"{abs(step.amount):064x}", size_bytes=1 + abs(step.amount)
                )
            if step.op == "withdraw":
                return bidder, c.WithdrawTender(competition=ref)
            if step.op == "open_tenders":
                return LEAD, c.OpenTenders(competition=ref)
            return LEAD, c.CancelCompetition(competition=ref, reason="The requirement has changed.")
        ref = CONTRACTS[step.index]
        if step.op == "award":
            # An award made outside the ledger (an accreditation): one off a competition it holds follows that award.
            return LEAD, k.AwardContract(
                contract=ref, framework=FRAMEWORK, competition="ACCREDITATION-2026", lot="NCL", provider=f"provider-{step.index}",
                value=10_000_000 + abs(step.amount) * 10, starts_on=today, ends_on=today + timedelta(days=200),
            )
        if step.op == "sign":
            return MANAGER, k.SignContract(contract=ref, signed_on=today)
        if step.op == "mobilise":
            return MANAGER, k.MobiliseContract(
                contract=ref, contract_manager="Contract officer", invoicing_contact_role="Finance manager", go_live=today
            )
        if step.op == "vary":
            return MANAGER, k.VaryContract(
                contract=ref, kind="annual_price", ground="pa2023_sch8_1", value_change=step.amount,
                effective_from=today, rationale="Annual price review under the price review clause.",
            )
        if step.op == "extend":
            return MANAGER, k.ExtendContract(
                contract=ref, months=1 + abs(step.amount) % 6, value_change=abs(step.amount),
                rationale="More time to complete the transition of residents.",
            )
        if step.op == "escalate":
            ladder = LADDERS[LADDER]
            stage = ladder[min(self.stages.get(ref, -1) + 1, len(ladder) - 1)]
            return MANAGER, k.EscalateContract(
                contract=ref, to_stage=stage, due=today + timedelta(days=120), reason="Quality monitoring visit: Red."
            )
        if step.op == "de_escalate":
            return MANAGER, k.DeEscalateContract(contract=ref, reason="Improvement evidenced at the follow-up visit.")
        if step.op == "suspend":
            return MANAGER, k.SuspendReferrals(contract=ref, from_date=today, reason="Safeguarding enquiry.")
        if step.op == "resume":
            return MANAGER, k.ResumeReferrals(contract=ref, from_date=today, reason="Enquiry closed.")
        if step.op == "change_of_control":
            return MANAGER, k.NotifyChangeOfControl(contract=ref, new_controller="Harbourside Holdings", notified_on=today)
        if step.op == "novate":
            return MANAGER, k.NovateContract(contract=ref, to_provider=f"successor-{step.index}", effective_from=today)
        if step.op == "terminate":
            return MANAGER, k.TerminateContract(
                contract=ref, reason_kind="mutual_agreement", effective_on=today, reason="Both parties agree to end it."
            )
        return MANAGER, k.ExpireContract(contract=ref, today=today)
