"""The words of a competition: procedures, standstill regimes, panels, checks, notices, statuses.

Shared by the Competition aggregate, its rule modules (`outcome.py` reads the compliance
checks) and the read models, so they sit apart from the aggregate that imports those rules.
"""

from __future__ import annotations

PROCEDURES = ("open", "restricted", "competitive_flexible", "light_touch", "psr_competitive", "call_off")
STANDSTILL_REGIMES = ("pcr2015", "pa2023", "psr2024")
PANELS = ("compliance", "technical", "financial")
SCORED_PANELS = ("technical", "financial")
COMPLIANCE_CHECKS = ("cqc_registration", "ico_registration", "insurance", "exclusion_grounds")
#: a competition's notices (their rules and Find a Tender codes: `notices.py`)
NOTICE_TYPES = (
    "future_opportunity",
    "contract_notice",
    "award_notice",
    "contract_details_notice",
    "psr_intention_to_award",
    "psr_award_confirmation",
)
CHALLENGE_KINDS = ("challenge", "representation")
CHALLENGE_OUTCOMES = ("dismissed", "upheld", "withdrawn")

# Statuses, in lifecycle order.
OPEN, EVALUATION, OUTCOME_DECIDED, STANDSTILL, AWARDED, CANCELLED = (
    "open",
    "evaluation",
    "outcome_decided",
    "standstill",
    "awarded",
    "cancelled",
)
