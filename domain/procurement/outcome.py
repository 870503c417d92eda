"""The outcome: each bidder's final scores and pass or fail, and who wins each lot.

- `agreed_score`: the one rule for a criterion's agreed score (the moderated score, else the
  mean of the individual scores that count, if they lie within the moderation spread), used
  by the outcome and by the evaluation trail's read model alike;
- `final_score`: the score the outcome counts, refused until every eligible evaluator has
  scored and, where they spread too wide, the panel has moderated;
- `compute_outcome`: compliance, weighted scores against the pass marks and the quality
  threshold, the financial assessment (with any parent company guarantee), and per lot the
  ranks, prices against the cap and the places available;
- `financial_ratios`: the ratio analysis of a bidder's accounts.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple, Protocol

from domain.kernel.errors import RuleBroken
from domain.procurement.vocabulary import COMPLIANCE_CHECKS

#: ratio name -> (comparison, the threshold key published with the criteria)
FINANCIAL_RATIOS = {
    "current_ratio": (">=", "min_current_ratio"),
    "gearing": ("<=", "max_gearing"),
    "operating_margin": (">=", "min_operating_margin"),
}


class Evaluation(Protocol):
    """The Competition's record that the outcome is decided from (by its shape: the aggregate imports this module)."""

    lots: dict[str, dict[str, Any]]
    tenders: dict[str, dict[str, Any]]
    criteria: dict[str, dict[str, Any]]
    quality_threshold: int | None
    moderation_spread: int
    evaluators: dict[str, dict[str, Any]]
    compliance: dict[str, dict[str, dict[str, Any]]]
    moderations: dict[tuple[str, str], dict[str, Any]]
    financial: dict[str, dict[str, Any]]
    guarantees: dict[str, dict[str, Any]]

    def counted_scores(self, bidder: str, criterion: str) -> dict[str, int]: ...


class AgreedScore(NamedTuple):
    #: "moderated", "awaiting_scores", "needs_moderation" or "agreed"
    state: str
    #: None while there is no agreed score
    score: Decimal | None


def agreed_score(individual: dict[str, int], moderated: int | None, spread_allowed: int) -> AgreedScore:
    """A criterion's agreed score for one bidder.

    The panel's moderated score stands whatever the individual scores; otherwise the
    individual scores that count (`individual`, evaluator -> score) agree when the highest
    and lowest differ by no more than `spread_allowed`, and the agreed score is their mean.
    """
    if moderated is not None:
        return AgreedScore("moderated", Decimal(moderated))
    if not individual:
        return AgreedScore("awaiting_scores", None)
    values = list(individual.values())
    if max(values) - min(values) > spread_allowed:
        return AgreedScore("needs_moderation", None)
    return AgreedScore("agreed", Decimal(sum(values)) / Decimal(len(values)))


def final_score(c: Evaluation, bidder: str, crit: dict[str, Any]) -> Decimal:
    """The agreed score the outcome counts, refused while scores are missing or need moderation."""
    crit_id = crit["id"]
    moderated = c.moderations.get((bidder, crit_id))
    counted: dict[str, int] = {}
    if moderated is None:
        counted = c.counted_scores(bidder, crit_id)
        check_all_scored(c, bidder, crit, counted)
    agreed = agreed_score(counted, None if moderated is None else moderated["score"], c.moderation_spread)
    if agreed.score is None:
        values = list(counted.values())
        raise RuleBroken(
            f"Scores for {crit_id} / {bidder} spread from {min(values)} to {max(values)}, more than "
            f"{c.moderation_spread}: the panel must moderate.",
            code="moderation_missing",
            bidder=bidder,
            criterion=crit_id,
        )
    return agreed.score


def financial_ratios(accounts: dict[str, int]) -> dict[str, Decimal | None]:
    """Ratio analysis from a bidder's accounts (pence): the Financial Assessment Tool."""

    def ratio(num: str, den: str) -> Decimal | None:
        d = accounts.get(den, 0)
        if not d:
            return None
        return (Decimal(accounts.get(num, 0)) / Decimal(d)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    return {
        "current_ratio": ratio("current_assets", "current_liabilities"),
        "gearing": ratio("total_debt", "net_assets"),
        "operating_margin": ratio("operating_profit", "turnover"),
    }


def compute_outcome(c: Evaluation) -> dict[str, Any]:
    """Pass/fail, weighted score and rank per lot, or a refusal naming what is missing."""
    bidders_out: dict[str, Any] = {}
    live = sorted(b for b, t in c.tenders.items() if t["status"] == "submitted")
    for bidder in live:
        reasons: list[str] = []
        checks = c.compliance.get(bidder, {})
        missing = [chk for chk in COMPLIANCE_CHECKS if chk not in checks]
        if missing:
            raise RuleBroken(
                f"Compliance check(s) {', '.join(missing)} not recorded for {bidder}.",
                code="compliance_check_missing",
                bidder=bidder,
            )
        failed = [chk for chk in COMPLIANCE_CHECKS if not checks[chk]["passed"]]
        if failed:
            bidders_out[bidder] = {
                "compliant": False,
                "passed": False,
                "weighted_score": None,
                "scores": {},
                "financial": None,
                "reasons": [f"compliance: {chk} failed ({checks[chk]['note']})" for chk in failed],
            }
            continue
        scores: dict[str, str] = {}
        weighted = Decimal(0)
        for crit_id, crit in sorted(c.criteria.items()):
            final = final_score(c, bidder, crit)
            scores[crit_id] = _dec(final)
            weighted += final / Decimal(crit["max_score"]) * Decimal(crit["weight"])
            if crit["pass_mark"] is not None and final < crit["pass_mark"]:
                reasons.append(f"technical: {crit_id} scored {_dec(final)}, below the pass mark of {crit['pass_mark']}")
        if c.quality_threshold is not None and weighted < c.quality_threshold:
            reasons.append(f"technical: weighted score {_dec(weighted)} below the quality threshold of {c.quality_threshold}")
        assessment = c.financial.get(bidder)
        if assessment is None:
            raise RuleBroken(f"No financial assessment recorded for {bidder}.", code="financial_assessment_missing", bidder=bidder)
        financial = assessment["result"]
        if financial == "pcg_required":
            guarantee = c.guarantees.get(bidder)
            if guarantee and guarantee["executed_at"]:
                financial = "pass_with_guarantee"
            else:
                reasons.append(
                    "financial: " + "; ".join(assessment["failures"]) + " and no parent company guarantee executed"
                )
        bidders_out[bidder] = {
            "compliant": True,
            "passed": not reasons,
            "weighted_score": _dec(weighted),
            "scores": scores,
            "financial": financial,
            "reasons": reasons,
        }
    lots_out: dict[str, Any] = {}
    for lot_id, lot in sorted(c.lots.items()):
        entrants = [b for b in live if lot_id in c.tenders[b]["lots"]]
        qualified, unsuccessful = [], {}
        for b in entrants:
            over = c.financial.get(b, {}).get("over_cap", {}).get(lot_id)
            if not bidders_out[b]["passed"]:
                unsuccessful[b] = list(bidders_out[b]["reasons"])
            elif over:
                unsuccessful[b] = [f"price: {over}"]
            else:
                qualified.append(b)
        qualified.sort(key=lambda b: (-Decimal(bidders_out[b]["weighted_score"]), b))
        ranks: dict[str, int] = {}
        for i, b in enumerate(qualified):
            same = i > 0 and bidders_out[b]["weighted_score"] == bidders_out[qualified[i - 1]]["weighted_score"]
            ranks[b] = ranks[qualified[i - 1]] if same else i + 1
        places = lot.get("places")
        successful = [b for b in qualified if places is None or ranks[b] <= places]
        for b in qualified:
            if b not in successful:
                unsuccessful[b] = [f"ranked {ranks[b]}, below the {places} place(s) available"]
        lots_out[lot_id] = {
            "successful": successful,
            "unsuccessful": dict(sorted(unsuccessful.items())),
            "ranks": ranks,
        }
    return {"bidders": bidders_out, "lots": lots_out}


def check_all_scored(c: Evaluation, bidder: str, crit: dict[str, Any], counted: dict[str, int]) -> None:
    """Every unconflicted evaluator on the criterion's panel scores before moderation or outcome."""
    crit_id = crit["id"]
    eligible = sorted(
        e
        for e, rec in c.evaluators.items()
        if crit["panel"] in rec["panels"]
        and rec["org"] != bidder
        and not rec["declarations"].get(bidder, {}).get("conflicted", False)
    )
    if not eligible:
        raise RuleBroken(
            f"No unconflicted {crit['panel']} evaluator is available to score {crit_id} for {bidder}.",
            code="no_eligible_evaluator",
        )
    missing = [e for e in eligible if e not in counted]
    if missing:
        raise RuleBroken(
            f"{', '.join(missing)} has not scored {crit_id} for {bidder}.",
            code="score_missing",
            bidder=bidder,
            criterion=crit_id,
        )


def _dec(value: Decimal, places: str = "0.01") -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))
