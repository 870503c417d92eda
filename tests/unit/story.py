"""A small competition built through the domain alone (no store, no clock), for rule tests.

Three bidders tender for two lots; two technical evaluators (one conflicted with a bidder)
and one financial evaluator are appointed, trained and have declared. Each `at_*` helper
moves a fresh competition one stage further, so a test starts where its rule applies.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from domain.kernel.metadata import Actor, CommandContext, acting
from domain.procurement.competition import Competition

LEAD = Actor(id="lead", org="CSU", role="procurement_lead")
PATEL = Actor(id="patel", org="ICB-NCL", role="evaluator")
MENSAH = Actor(id="mensah", org="ICB-NEL", role="evaluator")
OWUSU = Actor(id="owusu", org="ICB-NCL", role="evaluator")
BIDDERS = ("aster", "beech", "cedar")
LOTS = [
    {"id": "NCL", "name": "North Central London", "value_cap_pence": None, "places": None},
    {"id": "SWL", "name": "South West London", "value_cap_pence": 10_000_000, "places": 1},
]
CRITERIA = [
    {"id": "T1", "title": "Quality of care", "panel": "technical", "weight": 60, "max_score": 5, "pass_mark": 2},
    {"id": "T2", "title": "Workforce", "panel": "technical", "weight": 40, "max_score": 5, "pass_mark": None},
]
THRESHOLDS = {"min_credit_score": 40, "min_current_ratio": 1.0, "max_gearing": 2.0}
HEALTHY_ACCOUNTS = {
    "current_assets": 150,
    "current_liabilities": 100,
    "total_debt": 100,
    "net_assets": 100,
    "turnover": 1000,
    "operating_profit": 50,
}
WEAK_ACCOUNTS = {**HEALTHY_ACCOUNTS, "current_assets": 50}
#: offered prices for the capped lot (SWL: cap 10,000,000 pence)
PRICES = {"SWL": 9_000_000}

OPENED = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
CLARIFICATION_DEADLINE = datetime(2026, 2, 6, 17, tzinfo=timezone.utc)
DEADLINE = datetime(2026, 2, 20, 12, tzinfo=timezone.utc)
AFTER_DEADLINE = datetime(2026, 2, 23, 9, tzinfo=timezone.utc)
EVALUATING = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
LETTERS_SENT = datetime(2026, 4, 1, 10, tzinfo=timezone.utc)  # a Wednesday


def as_(actor: Actor, at: datetime, reason: str | None = None) -> acting:
    command_id = str(uuid.uuid4())
    return acting(
        CommandContext(
            actor=actor,
            at=at,
            command_id=command_id,
            command_type="test",
            correlation_id=command_id,
            causation_id=command_id,
            reason=reason,
        )
    )


def sha(n: int | str) -> str:
    import hashlib

    return hashlib.sha256(str(n).encode()).hexdigest()


def opened(regime: str = "pcr2015", spread: int = 1) -> Competition:
    with as_(LEAD, OPENED):
        c = Competition.open(
            reference="AQP-TEST",
            title="Test round",
            authority="CSU",
            procedure="light_touch",
            standstill_regime=regime,
            lots=LOTS,
            clarification_deadline=CLARIFICATION_DEADLINE,
            tender_deadline=DEADLINE,
            moderation_spread=spread,
            now=OPENED,
        )
        c.publish_criteria(
            criteria=CRITERIA, quality_threshold=50, financial_thresholds=THRESHOLDS, reason=None, now=OPENED
        )
    return c


def tendered(regime: str = "pcr2015", spread: int = 1) -> Competition:
    c = opened(regime, spread)
    for i, bidder in enumerate(BIDDERS):
        with as_(Actor(id=f"bm@{bidder}", org=bidder, role="provider"), datetime(2026, 2, 10 + i, tzinfo=timezone.utc)):
            c.submit_tender(bidder=bidder, lots=["NCL", "SWL"], content_sha256=sha(bidder), size_bytes=1000, now=c.modified_on)
    return c


def evaluating(regime: str = "pcr2015", spread: int = 1, *, train: bool = True, declare: bool = True) -> Competition:
    """Tenders opened; Patel and Mensah on the technical panel, Owusu on the financial panel.

    Mensah declared a conflict with cedar.
    """
    c = tendered(regime, spread)
    with as_(LEAD, AFTER_DEADLINE):
        c.open_tenders(now=AFTER_DEADLINE)
        c.appoint_evaluator(evaluator=PATEL.id, evaluator_org=PATEL.org, panel="technical")
        c.appoint_evaluator(evaluator=MENSAH.id, evaluator_org=MENSAH.org, panel="technical")
        c.appoint_evaluator(evaluator=OWUSU.id, evaluator_org=OWUSU.org, panel="financial")
        if train:
            for ev in (PATEL, MENSAH, OWUSU):
                c.record_training(evaluator=ev.id)
    if declare:
        for ev in (PATEL, MENSAH, OWUSU):
            with as_(ev, AFTER_DEADLINE):
                c.declare_conflicts(
                    evaluator=ev.id,
                    declarations=[{"bidder": b, "conflicted": ev is MENSAH and b == "cedar", "note": ""} for b in BIDDERS],
                )
    return c


def compliant(c: Competition, failing: tuple[str, str] | None = None) -> None:
    with as_(LEAD, EVALUATING):
        for b in BIDDERS:
            for check in ("cqc_registration", "ico_registration", "insurance", "exclusion_grounds"):
                failed = failing == (b, check)
                c.record_compliance(actor=LEAD, bidder=b, check=check, passed=not failed, note="lapsed" if failed else "")


def score(c: Competition, evaluator: Actor, bidder: str, criterion: str, value: int, at: datetime = EVALUATING) -> None:
    with as_(evaluator, at):
        c.record_score(
            evaluator=evaluator.id,
            evaluator_org=evaluator.org,
            bidder=bidder,
            criterion=criterion,
            score=value,
            justification="Evidence assessed against the published descriptors.",
            reason=None,
        )


#: bidder -> criterion -> (Patel's score, Mensah's score); Mensah never scores cedar.
SCORES = {
    "aster": {"T1": (4, 4), "T2": (4, 5)},
    "beech": {"T1": (3, 3), "T2": (3, 2)},
    "cedar": {"T1": (5, None), "T2": (4, None)},
}


def scored(regime: str = "pcr2015", spread: int = 1) -> Competition:
    c = evaluating(regime, spread)
    compliant(c)
    for bidder, by_criterion in SCORES.items():
        for criterion, (p, m) in by_criterion.items():
            score(c, PATEL, bidder, criterion, p)
            if m is not None:
                score(c, MENSAH, bidder, criterion, m)
    with as_(OWUSU, EVALUATING):
        for bidder in BIDDERS:
            c.assess_finances(
                evaluator=OWUSU.id,
                evaluator_org=OWUSU.org,
                bidder=bidder,
                credit_score=70,
                accounts=HEALTHY_ACCOUNTS,
                offered_prices=PRICES,
            )
    return c


def decided(regime: str = "pcr2015") -> Competition:
    c = scored(regime)
    with as_(LEAD, EVALUATING):
        c.decide_outcome()
    return c


def in_standstill(regime: str = "pcr2015") -> Competition:
    c = decided(regime)
    with as_(LEAD, LETTERS_SENT):
        c.issue_outcome_letters(relative_advantages={"NCL": "x", "SWL": "Higher quality scores."}, now=LETTERS_SENT)
    return c
