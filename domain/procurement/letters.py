"""The outcome letters: what each bidder is told when the outcome is decided.

PCR 2015 reg 86: each bidder learns the criteria and weights, its own scores, the result
and rank in each lot it entered, the successful bidders' scores, the relative advantages of
the successful tenders where it lost, and when the standstill ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def outcome_letters(
    *,
    outcome: dict[str, Any],
    criteria: dict[str, dict[str, Any]],
    tenders: dict[str, dict[str, Any]],
    relative_advantages: dict[str, str],
    standstill_ends_at: datetime,
) -> list[dict[str, Any]]:
    """One letter per bidder with what PCR 2015 reg 86 requires it to say.

    `outcome` is the decided outcome, `criteria` and `tenders` the competition's, and
    `relative_advantages` (lot -> text) what the successful tenders had over the others.
    """
    published = [
        {"id": cr["id"], "title": cr["title"], "weight": cr["weight"], "max_score": cr["max_score"]}
        for cr in sorted(criteria.values(), key=lambda cr: cr["id"])
    ]
    letters = []
    for bidder, result in sorted(outcome["bidders"].items()):
        lots = {}
        for lot_id, lot in sorted(outcome["lots"].items()):
            if lot_id not in tenders[bidder]["lots"]:
                continue
            successful = bidder in lot["successful"]
            lots[lot_id] = {
                "result": "successful" if successful else "unsuccessful",
                "rank": lot["ranks"].get(bidder),
                "reasons": lot["unsuccessful"].get(bidder, []),
                "successful_bidders": [
                    {
                        "bidder": w,
                        "weighted_score": outcome["bidders"][w]["weighted_score"],
                        "scores": outcome["bidders"][w]["scores"],
                    }
                    for w in lot["successful"]
                ],
                "relative_advantages": None if successful else relative_advantages.get(lot_id),
            }
        letters.append(
            {
                "bidder": bidder,
                "criteria": published,
                "weighted_score": result["weighted_score"],
                "scores": result["scores"],
                "lots": lots,
                "standstill_ends_at": standstill_ends_at.isoformat(),
            }
        )
    return letters
