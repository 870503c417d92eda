"""The notices the law requires: their types, their Find a Tender codes, when each is due.

Shared by the Competition (the notices of a procurement) and the Contract (the notices of
its life), whose aggregates enforce the order: what a notice must precede is refused
without it. The rules, by regime:

- Procurement Act 2023 (Find a Tender's "UK" notice types):
  - s.50(1): before entering into a public contract, a contract award notice (UK6); s.50(3):
    after the assessment summaries (our outcome letters) are given to every assessed bidder.
  - s.51(2): the standstill is the 8 working days beginning with the day the contract award
    notice is published. A light-touch contract is exempt from the mandatory standstill
    (s.51(3)) but the ledger holds it to the voluntary one s.51 allows, which counts the same.
  - s.53(1): a contract details notice (UK7) within 30 days beginning with the day the
    contract is entered into (120 days for a light-touch contract).
  - s.75(1): a contract change notice (UK10) before modifying the contract, except (s.75(2))
    a change of the value by 10% or less (goods and services) or of the term by 10% or less
    of the maximum term at award, unless it is a novation or assignment on a corporate
    restructuring (Sch 8 para 9); never for a light-touch contract (s.75(6)(b)).
  - s.80(1): a contract termination notice (UK11) within 30 days beginning with the day the
    contract ends, whatever ended it (expiry too). UK12 is the procurement termination
    notice (s.55), for a procurement abandoned before award: not this one.
- Provider Selection Regime (the Health Care Services (Provider Selection Regime)
  Regulations 2023, in force 1 January 2024): a notice of intention to award starts the
  standstill (reg 12: 8 working days after the day it begins, a representation keeps it
  open), and a notice confirming the award follows it, within 30 days of the award (NHS
  England's PSR statutory guidance). Find a Tender takes PSR notices on its older "F"
  forms, so they carry no UK code.

The payload published is generated outside the domain (`audit/notice_payload.py` says what
it needs); the ledger records its SHA-256, the publication day and the service's reference.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.procurement.vocabulary import NOTICE_TYPES

#: notice type -> its Find a Tender code under the Procurement Act 2023 (None: not a UK notice)
UK_CODES: dict[str, str | None] = {
    "future_opportunity": "UK3",
    "contract_notice": "UK4",
    "award_notice": "UK6",
    "contract_details_notice": "UK7",
    "contract_change_notice": "UK10",
    "contract_termination_notice": "UK11",
    "psr_intention_to_award": None,
    "psr_award_confirmation": None,
}
#: the notices of a procurement, published on the competition (a contract details notice was
#: recorded here before contracts had notices of their own)
COMPETITION_NOTICE_TYPES = NOTICE_TYPES
#: the notices of a contract's life, published on the contract
CONTRACT_NOTICE_TYPES = ("contract_details_notice", "contract_change_notice", "contract_termination_notice")

CONTRACT_DETAILS_DAYS = 30
CONTRACT_DETAILS_DAYS_LIGHT_TOUCH = 120
TERMINATION_NOTICE_DAYS = 30
PSR_CONFIRMATION_DAYS = 30
#: s.75(2): a change of value or term of at most this share needs no change notice
CHANGE_NOTICE_SHARE_PERCENT = 10


def uk_code(notice_type: str, regime: str) -> str | None:
    """The UK notice type a notice is published as; only Procurement Act 2023 procurements have one."""
    return UK_CODES.get(notice_type) if regime == "pa2023" else None


def last_day_within(first_day: date, days: int) -> date:
    """The last day of "the period of N days beginning with" a day: that day is the first."""
    return first_day + timedelta(days=days - 1)


def contract_details_due(entered_on: date, *, light_touch: bool) -> date:
    """s.53(1): the last day to publish the contract details notice."""
    return last_day_within(entered_on, CONTRACT_DETAILS_DAYS_LIGHT_TOUCH if light_touch else CONTRACT_DETAILS_DAYS)


def termination_notice_due(ended_on: date) -> date:
    """s.80(1): the last day to publish the contract termination notice."""
    return last_day_within(ended_on, TERMINATION_NOTICE_DAYS)


def psr_confirmation_due(awarded_on: date) -> date:
    """PSR: the last day to publish the notice confirming the award."""
    return awarded_on + timedelta(days=PSR_CONFIRMATION_DAYS)


def change_notice_required(
    *,
    regime: str,
    light_touch: bool,
    value_before: int,
    value_change: int,
    term_days_at_award: int = 0,
    term_change_days: int = 0,
    restructuring: bool = False,
) -> bool:
    """s.75: whether a modification needs a contract change notice published before it takes effect.

    `value_before` is the contract's estimated value as it stands (pence), `term_days_at_award`
    the maximum term provided for on award; `restructuring` a novation or assignment on a
    corporate restructuring (Sch 8 para 9), which always needs one.
    """
    if regime != "pa2023" or light_touch:
        return False
    if restructuring:
        return True
    # s.75(2) exempts a change "by 10 per cent or less" of the value or of the term; a change
    # beyond either bound is not that small change, so it needs the notice.
    share = CHANGE_NOTICE_SHARE_PERCENT
    value_over = abs(value_change) * 100 > share * max(value_before, 0)
    term_over = abs(term_change_days) * 100 > share * max(term_days_at_award, 0)
    return value_over or term_over
