"""The delivery plan of a service contract (seed 002, the NHS England call-off).

Milestone deliverables (draft and final due dates, baseline and forecast dates, a payment
each), fortnightly highlight reports rating each open milestone's delivery confidence on
the seed's five-point RAG scale, payments against accepted milestones that never take the
total paid above the contract's value, and a risk register scored impact x likelihood (1-5)
on the seed's matrix.

`DeliveryPlan` is mixed into the Contract: its methods check the rules and trigger the
events, and work on the Contract's own state (`milestones`, `highlight_reports`, `payments`,
`paid`, `risks`, with its term, value and `_check_live`). Its event classes are named again
in the Contract's body, so that they are nested there (`Contract.MilestoneAdded`) and keep
the topics they were first stored under (`domain/kernel/topics.py`).
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.metadata import LedgerAggregate

#: Delivery confidence, seed 002 ("RAG Status Definitions - for the overall Programme and
#: Local Delivery", NHS England PMO highlight report): code -> (name, definition).
DELIVERY_CONFIDENCE: dict[str, tuple[str, str]] = {
    "G": (
        "Green",
        (
            "Successful delivery of the programme to time, cost and quality seems highly likely and there are no major "
            "outstanding issues that appear to threaten delivery significantly."
        ),
    ),
    "A/G": (
        "Amber/Green",
        (
            "Successful delivery appears probable however constant attention will be needed to ensure risks do not "
            "materialise into issues threatening delivery."
        ),
    ),
    "A": (
        "Amber",
        (
            "Successful delivery appears feasible but significant issues already exist requiring management attention. "
            "These appear resolvable at this stage and if addressed promptly, should not present a cost schedule overrun."
        ),
    ),
    "A/R": (
        "Amber/Red",
        (
            "Successful delivery is in doubt with major risks or issues apparent in a number of key areas. Urgent action "
            "is needed to ensure these are addressed, and whether resolution is feasible."
        ),
    ),
    "R": (
        "Red",
        (
            "Successful delivery appears to be unachievable. There are major issues on programme definition, schedule, "
            "budget required, quality or benefits delivery, which at this stage do not appear to be resolvable."
        ),
    ),
}
#: impact and likelihood are each scored 1-5 with these labels (seed 002, "Control Sheet")
RISK_LEVELS = {1: "Very Low", 2: "Low", 3: "Medium", 4: "High", 5: "Very High"}
#: The seed's risk matrix: impact (rows, 5 down to 1) x likelihood (columns, 1 to 5) -> RAG.
RISK_MATRIX: dict[int, tuple[str, str, str, str, str]] = {
    5: ("A", "A/R", "R", "R", "R"),
    4: ("A", "A", "A/R", "R", "R"),
    3: ("A/G", "A", "A", "A/R", "A/R"),
    2: ("G", "A/G", "A/G", "A", "A"),
    1: ("G", "G", "G", "G", "G"),
}
PLANNED, DRAFT_SUBMITTED, DELIVERED, RETURNED, ACCEPTED = "planned", "draft_submitted", "delivered", "returned", "accepted"
OPEN, CLOSED = "open", "closed"


def risk_rating(impact: int, likelihood: int) -> str:
    """The RAG rating of a risk on the seed's matrix (impact and likelihood 1-5)."""
    for name, score in (("impact", impact), ("likelihood", likelihood)):
        if score not in RISK_LEVELS:
            raise ValidationFailed(f"A risk's {name} is scored 1 to 5; got {score}.", code="score_out_of_range", field=name)
    return RISK_MATRIX[impact][likelihood - 1]


def confidence(code: str | None) -> dict[str, str] | None:
    if code is None:
        return None
    return {"code": code, "name": DELIVERY_CONFIDENCE[code][0]}


def _check_confidence(code: str, field: str) -> None:
    if code not in DELIVERY_CONFIDENCE:
        raise ValidationFailed(
            f"Delivery confidence is one of {', '.join(DELIVERY_CONFIDENCE)} ({', '.join(n for n, _ in DELIVERY_CONFIDENCE.values())}).",
            code="unknown_confidence",
            field=field,
        )


def _refuse(code: str, message: str) -> RuleBroken:
    return RuleBroken(message, code=code)


class DeliveryPlan:
    """Milestones, highlight reports, payments and risks: the part of a Contract that service contracts use."""

    # The Contract's state that the plan reads and writes (set in `Contract.__init__`).
    reference: str
    starts_on: date | None
    ends_on: date | None
    value: int
    milestones: dict[str, dict[str, Any]]
    highlight_reports: list[dict[str, Any]]
    payments: dict[str, dict[str, Any]]
    paid: int
    risks: dict[str, dict[str, Any]]

    # ------------------------------------------------------------------ milestones

    def add_milestone(
        self, *, milestone: str, title: str, phase: str, draft_due: date | None, final_due: date, payment: int
    ) -> None:
        """A deliverable with its draft and final due dates; the final due date is its baseline."""
        self._check_live()
        if milestone in self.milestones:
            raise _refuse("milestone_exists", f"Contract {self.reference} already has milestone {milestone}.")
        if payment < 0:
            raise ValidationFailed("A milestone payment is a non-negative amount in pence.", code="value_negative", field="payment")
        if draft_due is not None and draft_due > final_due:
            raise ValidationFailed(
                f"The draft of {milestone} is due ({draft_due}) after its final version ({final_due}).",
                code="draft_after_final",
                field="draft_due",
            )
        assert self.starts_on and self.ends_on
        if not self.starts_on <= final_due <= self.ends_on:
            raise _refuse(
                "milestone_outside_term",
                f"{milestone} is due on {final_due}, outside the contract's term ({self.starts_on} to {self.ends_on}).",
            )
        planned = sum(m["payment"] for m in self.milestones.values()) + payment
        if planned > self.value:
            raise _refuse(
                "payment_plan_over_value",
                f"The payment plan would total {planned} pence, more than the contract's value of {self.value} pence.",
            )
        self.trigger_event(
            self.MilestoneAdded,
            milestone=milestone,
            title=title,
            phase=phase,
            draft_due=draft_due.isoformat() if draft_due else None,
            final_due=final_due.isoformat(),
            payment=payment,
        )

    class MilestoneAdded(LedgerAggregate.Event):
        milestone: str
        title: str
        phase: str
        draft_due: str | None
        final_due: str
        payment: int

        def apply(self, k: DeliveryPlan) -> None:
            k.milestones[self.milestone] = {
                "title": self.title,
                "phase": self.phase,
                "draft_due": self.draft_due,
                "final_due": self.final_due,
                "baseline": self.final_due,
                "forecast": self.final_due,
                "status": PLANNED,
                "confidence": None,
                "payment": self.payment,
                "paid": 0,
                "submissions": [],
                "returns": [],
                "accepted_on": None,
            }

    def _milestone(self, milestone: str) -> dict[str, Any]:
        record = self.milestones.get(milestone)
        if record is None:
            raise _refuse("unknown_milestone", f"Contract {self.reference} has no milestone {milestone}.")
        return record

    def submit_deliverable(self, *, milestone: str, version: str, submitted_on: date, document_sha256: str | None) -> None:
        """The provider submits a deliverable in draft, then final (seed 002: "In draft - N weeks, Finalised by - M weeks")."""
        self._check_live()
        record = self._milestone(milestone)
        if version not in ("draft", "final"):
            raise ValidationFailed("A deliverable is submitted as draft or final.", code="unknown_version", field="version")
        if record["status"] == ACCEPTED:
            raise _refuse("milestone_accepted", f"{milestone} was accepted on {record['accepted_on']}.")
        if record["status"] == DELIVERED:
            raise _refuse("already_delivered", f"The final {milestone} is with the commissioner for review.")
        if version == "final" and record["draft_due"] is not None and record["status"] == PLANNED:
            raise _refuse("draft_required", f"{milestone} is submitted in draft (due {record['draft_due']}) before its final version.")
        due = record["final_due"] if version == "final" else record["draft_due"] or record["final_due"]
        self.trigger_event(
            self.DeliverableSubmitted,
            milestone=milestone,
            version=version,
            submitted_on=submitted_on.isoformat(),
            late=submitted_on.isoformat() > due,
            document_sha256=document_sha256,
        )

    class DeliverableSubmitted(LedgerAggregate.Event):
        milestone: str
        version: str
        submitted_on: str
        late: bool
        document_sha256: str | None

        def apply(self, k: DeliveryPlan) -> None:
            record = k.milestones[self.milestone]
            record["submissions"].append(
                {"version": self.version, "on": self.submitted_on, "late": self.late, "document_sha256": self.document_sha256}
            )
            record["status"] = DELIVERED if self.version == "final" else DRAFT_SUBMITTED

    def accept_milestone(self, *, milestone: str, accepted_on: date) -> None:
        """Delivered to the commissioner's satisfaction (seed 002 3.8.5): the milestone becomes payable.

        Allowed after the contract ends: work delivered in term is still accepted and paid.
        """
        record = self._milestone(milestone)
        if record["status"] == ACCEPTED:
            raise _refuse("milestone_accepted", f"{milestone} was accepted on {record['accepted_on']}.")
        if record["status"] != DELIVERED:
            raise _refuse("milestone_not_delivered", f"{milestone} has no final version awaiting acceptance ({record['status']}).")
        delivered_on = record["submissions"][-1]["on"]
        if accepted_on.isoformat() < delivered_on:
            raise ValidationFailed(
                f"{milestone} cannot be accepted before it was delivered ({delivered_on}).",
                code="accepted_before_delivery",
                field="accepted_on",
            )
        self.trigger_event(self.MilestoneAccepted, milestone=milestone, accepted_on=accepted_on.isoformat())

    class MilestoneAccepted(LedgerAggregate.Event):
        milestone: str
        accepted_on: str

        def apply(self, k: DeliveryPlan) -> None:
            record = k.milestones[self.milestone]
            record["status"], record["accepted_on"] = ACCEPTED, self.accepted_on

    def return_deliverable(self, *, milestone: str, returned_on: date, reason: str | None) -> None:
        """The final version is not to the commissioner's satisfaction: returned for rework, with the reason."""
        self._check_live()
        record = self._milestone(milestone)
        if record["status"] != DELIVERED:
            raise _refuse("milestone_not_delivered", f"{milestone} has no final version awaiting review ({record['status']}).")
        if not reason:
            raise ValidationFailed("Returning a deliverable needs the reason.", code="reason_required", field="reason")
        self.trigger_event(self.DeliverableReturned, milestone=milestone, returned_on=returned_on.isoformat(), reason=reason)

    class DeliverableReturned(LedgerAggregate.Event):
        milestone: str
        returned_on: str
        reason: str

        def apply(self, k: DeliveryPlan) -> None:
            record = k.milestones[self.milestone]
            record["returns"].append({"on": self.returned_on, "reason": self.reason})
            record["status"] = RETURNED

    # ------------------------------------------------------------ highlight reports

    def submit_highlight_report(
        self,
        *,
        period_ending: date,
        overall_confidence: str,
        rationale: str,
        items: list[dict[str, Any]],
        summary: str,
    ) -> None:
        """The fortnightly highlight report (seed 002 3.5.2 and appendix 4.4).

        Every milestone not yet accepted is rated for delivery confidence; a rating below Green,
        or a forecast later than the baseline, carries its rationale. Reports are fortnightly,
        for fortnights on the cycle the first report set; a missed fortnight stays visible as a gap.
        """
        self._check_live()
        assert self.starts_on
        _check_confidence(overall_confidence, "overall_confidence")
        if overall_confidence != "G" and not rationale.strip():
            raise ValidationFailed(
                "An overall delivery confidence below Green needs its rationale and the actions in place.",
                code="rationale_required",
                field="rationale",
            )
        if period_ending < self.starts_on:
            raise _refuse("report_before_start", f"Contract {self.reference} starts on {self.starts_on}.")
        if self.highlight_reports:
            first = date.fromisoformat(self.highlight_reports[0]["period_ending"])
            last = date.fromisoformat(self.highlight_reports[-1]["period_ending"])
            if period_ending <= last:
                raise _refuse(
                    "report_not_later",
                    f"The last highlight report covered the fortnight ending {last}; a report covers a later fortnight.",
                )
            if (period_ending - first).days % 14:
                expected = date.fromordinal(last.toordinal() + 14)
                raise _refuse(
                    "not_fortnightly",
                    f"Highlight reports are fortnightly, for fortnights ending on the cycle that began {first} "
                    f"(the next ends {expected}).",
                )
        rated = [
            {
                "milestone": item["milestone"],
                "confidence": item["confidence"],
                "forecast": item["forecast"].isoformat() if isinstance(item.get("forecast"), date) else item.get("forecast"),
                "rationale": item.get("rationale") or "",
            }
            for item in items
        ]
        seen: set[str] = set()
        for item in rated:
            milestone = item["milestone"]
            record = self._milestone(milestone)
            if milestone in seen:
                raise ValidationFailed(f"{milestone} is rated twice.", code="duplicate_milestone", field="items")
            seen.add(milestone)
            _check_confidence(item["confidence"], "items.confidence")
            item["forecast"] = item["forecast"] or record["forecast"]
            slipped = item["forecast"] > record["baseline"]
            if (item["confidence"] != "G" or slipped) and not item["rationale"].strip():
                why = f" and forecast after its baseline ({item['forecast']}, baseline {record['baseline']})" if slipped else ""
                raise ValidationFailed(
                    f"{milestone} is rated {DELIVERY_CONFIDENCE[item['confidence']][0]}{why}: record the rationale.",
                    code="rationale_required",
                    field="items.rationale",
                )
        unrated = [m for m, record in self.milestones.items() if record["status"] != ACCEPTED and m not in seen]
        if unrated:
            raise _refuse(
                "milestone_not_reported",
                f"A highlight report rates every open milestone; missing: {', '.join(unrated)}.",
            )
        self.trigger_event(
            self.HighlightReported,
            period_ending=period_ending.isoformat(),
            overall_confidence=overall_confidence,
            rationale=rationale,
            summary=summary,
            items=rated,
        )

    class HighlightReported(LedgerAggregate.Event):
        period_ending: str
        overall_confidence: str
        rationale: str
        summary: str
        items: list

        def apply(self, k: DeliveryPlan) -> None:
            k.highlight_reports.append(
                {
                    "period_ending": self.period_ending,
                    "overall_confidence": self.overall_confidence,
                    "rationale": self.rationale,
                    "summary": self.summary,
                    "items": copy.deepcopy(self.items),
                }
            )
            for item in self.items:
                record = k.milestones[item["milestone"]]
                record["confidence"], record["forecast"] = item["confidence"], item["forecast"]

    # --------------------------------------------------------------------- payments

    def record_payment(self, *, payment: str, milestone: str, amount: int, paid_on: date) -> None:
        """A payment against an accepted milestone (seed 002 3.8.4-3.8.5).

        The total paid never exceeds the contract's value (its cap, extensions included), and
        no milestone is paid more than its amount in the payment plan. Recording the same
        payment again changes nothing; reusing its id for another payment is refused.
        Allowed after the contract ends, for work accepted.
        """
        existing = self.payments.get(payment)
        if existing is not None:
            if (existing["milestone"], existing["amount"], existing["paid_on"]) == (milestone, amount, paid_on.isoformat()):
                return
            raise _refuse(
                "payment_exists",
                f"Payment {payment} is already recorded, for {existing['amount']} pence against {existing['milestone']}.",
            )
        if amount <= 0:
            raise ValidationFailed("A payment is a positive amount in pence.", code="amount_not_positive", field="amount")
        record = self._milestone(milestone)
        if record["status"] != ACCEPTED:
            raise _refuse(
                "milestone_not_accepted",
                f"Payment is on the achievement of milestones to the commissioner's satisfaction; {milestone} is {record['status']}.",
            )
        if self.paid + amount > self.value:
            raise _refuse(
                "payment_over_cap",
                f"Contract {self.reference} is capped at {self.value} pence and {self.paid} is paid; "
                f"a payment of {amount} would take the total to {self.paid + amount}.",
            )
        if record["paid"] + amount > record["payment"]:
            raise _refuse(
                "payment_over_milestone",
                f"{milestone} is worth {record['payment']} pence and {record['paid']} is paid; {amount} more would exceed it.",
            )
        self.trigger_event(self.PaymentRecorded, payment=payment, milestone=milestone, amount=amount, paid_on=paid_on.isoformat())

    class PaymentRecorded(LedgerAggregate.Event):
        payment: str
        milestone: str
        amount: int
        paid_on: str

        def apply(self, k: DeliveryPlan) -> None:
            k.payments[self.payment] = {"milestone": self.milestone, "amount": self.amount, "paid_on": self.paid_on}
            k.milestones[self.milestone]["paid"] += self.amount
            k.paid += self.amount

    # ---------------------------------------------------------------- risk register

    def raise_risk(
        self, *, risk: str, description: str, impact: int, likelihood: int, owner_role: str, mitigation: str, raised_on: date
    ) -> None:
        self._check_live()
        if risk in self.risks:
            raise _refuse("risk_exists", f"Risk {risk} is already on the register of {self.reference}.")
        rating = risk_rating(impact, likelihood)
        self._check_mitigation(risk, rating, mitigation)
        self.trigger_event(
            self.RiskRaised,
            risk=risk,
            description=description,
            impact=impact,
            likelihood=likelihood,
            rating=rating,
            owner_role=owner_role,
            mitigation=mitigation,
            raised_on=raised_on.isoformat(),
        )

    @staticmethod
    def _check_mitigation(risk: str, rating: str, mitigation: str) -> None:
        if rating != "G" and not mitigation.strip():
            raise ValidationFailed(
                f"Risk {risk} is rated {DELIVERY_CONFIDENCE[rating][0]}: record the mitigating action.",
                code="mitigation_required",
                field="mitigation",
            )

    class RiskRaised(LedgerAggregate.Event):
        risk: str
        description: str
        impact: int
        likelihood: int
        rating: str
        owner_role: str
        mitigation: str
        raised_on: str

        def apply(self, k: DeliveryPlan) -> None:
            k.risks[self.risk] = {
                "description": self.description,
                "impact": self.impact,
                "likelihood": self.likelihood,
                "rating": self.rating,
                "owner_role": self.owner_role,
                "mitigation": self.mitigation,
                "status": OPEN,
                "raised_on": self.raised_on,
                "updates": [],
                "closed": None,
            }

    def _open_risk(self, risk: str) -> dict[str, Any]:
        record = self.risks.get(risk)
        if record is None:
            raise _refuse("unknown_risk", f"There is no risk {risk} on the register of {self.reference}.")
        if record["status"] == CLOSED:
            raise _refuse("risk_closed", f"Risk {risk} was closed on {record['closed']['on']}.")
        return record

    def update_risk(
        self,
        *,
        risk: str,
        impact: int | None,
        likelihood: int | None,
        owner_role: str | None,
        mitigation: str | None,
        progress: str,
        updated_on: date,
    ) -> None:
        """Re-score a risk, or record the progress of its mitigating action."""
        self._check_live()
        record = self._open_risk(risk)
        impact = record["impact"] if impact is None else impact
        likelihood = record["likelihood"] if likelihood is None else likelihood
        owner_role = owner_role or record["owner_role"]
        mitigation = record["mitigation"] if mitigation is None else mitigation
        rating = risk_rating(impact, likelihood)
        self._check_mitigation(risk, rating, mitigation)
        unchanged = (impact, likelihood, owner_role, mitigation) == (
            record["impact"], record["likelihood"], record["owner_role"], record["mitigation"]
        )
        if unchanged and not progress.strip():
            raise ValidationFailed(
                "A risk update changes the score, owner or mitigation, or records progress.", code="nothing_to_update", field="progress"
            )
        if updated_on.isoformat() < record["raised_on"]:
            raise ValidationFailed(f"Risk {risk} was raised on {record['raised_on']}.", code="date_before_raised", field="updated_on")
        self.trigger_event(
            self.RiskUpdated,
            risk=risk,
            impact=impact,
            likelihood=likelihood,
            rating=rating,
            owner_role=owner_role,
            mitigation=mitigation,
            progress=progress,
            updated_on=updated_on.isoformat(),
        )

    class RiskUpdated(LedgerAggregate.Event):
        risk: str
        impact: int
        likelihood: int
        rating: str
        owner_role: str
        mitigation: str
        progress: str
        updated_on: str

        def apply(self, k: DeliveryPlan) -> None:
            record = k.risks[self.risk]
            record["updates"].append(
                {"on": self.updated_on, "impact": self.impact, "likelihood": self.likelihood, "rating": self.rating,
                 "progress": self.progress}
            )
            record.update(
                impact=self.impact, likelihood=self.likelihood, rating=self.rating, owner_role=self.owner_role, mitigation=self.mitigation
            )

    def close_risk(self, *, risk: str, closed_on: date, reason: str | None) -> None:
        """Closed when it has passed or been mitigated away; allowed after the contract ends."""
        record = self._open_risk(risk)
        if not reason:
            raise ValidationFailed(
                "Closing a risk needs the reason (passed, mitigated, became an issue...).", code="reason_required", field="reason"
            )
        if closed_on.isoformat() < record["raised_on"]:
            raise ValidationFailed(f"Risk {risk} was raised on {record['raised_on']}.", code="date_before_raised", field="closed_on")
        self.trigger_event(self.RiskClosed, risk=risk, closed_on=closed_on.isoformat(), reason=reason)

    class RiskClosed(LedgerAggregate.Event):
        risk: str
        closed_on: str
        reason: str

        def apply(self, k: DeliveryPlan) -> None:
            record = k.risks[self.risk]
            record["status"], record["closed"] = CLOSED, {"on": self.closed_on, "reason": self.reason}
