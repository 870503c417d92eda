"""When may a public contract be changed? The legal grounds, as data and one pure check.

A variation names the ground it relies on. Each ground belongs to one regime and says what
it permits: a change the contract itself provided for (a price review clause) has no value
limit; the de minimis and "minor" grounds limit the cumulative change against the original
value. A change beyond every limit is refused unless it names a ground that permits it.

- PCR 2015 reg 72: (1)(a) review clauses in the original documents; (1)(b)/(c) additional
  or unforeseeable work, each modification at most 50% of the original value; (1)(e) not
  substantial; (5) de minimis: below the threshold and under 10% of the initial value for
  services, cumulatively.
- Procurement Act 2023 s.74 and Schedule 8: below-threshold modifications under 10% for
  goods and services (15% works), aggregated; Schedule 8 para 1 (clearly provided for);
  s.74(2): light-touch contracts (which include social care) may be modified if not
  substantial; a change to the term by more than 10% is substantial (s.74(4)(c)).
- Provider Selection Regime 2024 reg 13: (1)(a) clearly provided for; (1)(e) the cumulative
  change is under GBP 500,000 or under 25% of the lifetime value, and the character of the
  contract does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.kernel.errors import RuleBroken, ValidationFailed

#: PCR 2015 threshold for light-touch services (social care), GBP 663,540 from 1 Jan 2024, in pence
LIGHT_TOUCH_THRESHOLD_PENCE = 66_354_000
PSR_MINOR_LIMIT_PENCE = 50_000_000


@dataclass(frozen=True)
class Ground:
    code: str
    regime: str
    title: str
    #: largest cumulative change as a share of the original value (None: no share limit)
    cumulative_share: Decimal | None = None
    #: largest single change as a share of the original value
    single_share: Decimal | None = None
    #: largest cumulative change in pence (None: no absolute limit)
    cumulative_pence: int | None = None
    #: limits apply as alternatives (PSR: under GBP 500k OR under 25%)
    either: bool = False
    #: the rationale must say why the change is not substantial / keeps the character
    needs_rationale: bool = True


GROUNDS = {
    g.code: g
    for g in (
        Ground("pcr2015_reg72_1_a", "pcr2015", "review clause in the original procurement documents"),
        Ground("pcr2015_reg72_1_b", "pcr2015", "additional services by the original contractor", single_share=Decimal("0.5")),
        Ground("pcr2015_reg72_1_c", "pcr2015", "unforeseeable circumstances", single_share=Decimal("0.5")),
        Ground("pcr2015_reg72_1_e", "pcr2015", "not substantial"),
        Ground(
            "pcr2015_reg72_5",
            "pcr2015",
            "de minimis: below the threshold and under 10% of the initial value",
            cumulative_share=Decimal("0.10"),
            cumulative_pence=LIGHT_TOUCH_THRESHOLD_PENCE,
        ),
        Ground("pa2023_sch8_1", "pa2023", "clearly provided for in the contract"),
        Ground("pa2023_s74_below_threshold", "pa2023", "below-threshold: under 10% for services, aggregated", cumulative_share=Decimal("0.10")),
        Ground("pa2023_s74_2_light_touch", "pa2023", "light-touch contract, not substantial"),
        Ground("psr2024_reg13_1_a", "psr2024", "clearly provided for in the original contract"),
        Ground(
            "psr2024_reg13_1_e",
            "psr2024",
            "cumulative change under GBP 500,000 or under 25% of lifetime value, character unchanged",
            cumulative_share=Decimal("0.25"),
            cumulative_pence=PSR_MINOR_LIMIT_PENCE,
            either=True,
        ),
    )
}


def check_modification(
    *,
    regime: str,
    ground_code: str,
    original_value: int,
    cumulative_before: int,
    change: int,
    rationale: str,
) -> None:
    """Refuse a value change the named ground does not permit (values in pence, signed)."""
    ground = GROUNDS.get(ground_code)
    if ground is None:
        raise ValidationFailed(
            f"Unknown legal ground {ground_code!r}; one of: {', '.join(sorted(GROUNDS))}.",
            code="unknown_ground",
            field="ground",
        )
    if ground.regime != regime:
        raise RuleBroken(
            f"{ground_code} is a {ground.regime} ground, but this contract is under {regime}.",
            code="ground_wrong_regime",
        )
    if ground.needs_rationale and len(rationale.strip()) < 10:
        raise ValidationFailed(
            "A variation needs its rationale recorded (why the ground applies).", code="rationale_required", field="rationale"
        )
    cumulative = abs(cumulative_before + change)
    original = Decimal(max(original_value, 1))
    within_share = ground.cumulative_share is None or Decimal(cumulative) / original < ground.cumulative_share
    within_pence = ground.cumulative_pence is None or cumulative < ground.cumulative_pence
    allowed = (within_share or within_pence) if ground.either else (within_share and within_pence)
    if ground.single_share is not None and Decimal(abs(change)) / original > ground.single_share:
        allowed = False
    if not allowed:
        raise RuleBroken(
            f"The change of {change} pence takes the cumulative change to {cumulative} pence "
            f"({Decimal(cumulative) / original:.1%} of the original {original_value}); "
            f"{ground_code} ({ground.title}) does not permit it. Record a ground that does, or re-procure.",
            code="modification_not_permitted",
        )
