"""An FOI request: received, perhaps clarified or charged for, considered part by part, answered, reviewed.

The authority that received it keeps it under its own reference; its id comes from both
(`FoiRequest.key(authority, reference)`), so another authority's request of the same
reference is another record. The requester's name and address are personal data, erasable
under the requester's person id. What is asked is kept as numbered parts, and the response
must decide each one.

The law, as invariants (FOIA 2000; refusals record nothing):
- the clock (`clock.py`): each event that moves it records the due date it leads to, worked
  out when it is recorded, so a replay shows the date the officer was shown;
- s.1(3): while a clarification is awaited there is no due date; s.9/s.10(2): while a fee is
  unpaid neither, and a fee paid more than three months after its notice is refused;
- s.12: a refusal over the cost limit needs an estimate above the limit, its basis and the
  advice and assistance given (s.16);
- every exemption considered needs its grounds; the qualified ones (s.36, s.43) a public
  interest test with factors on both sides and a conclusion, the absolute ones (s.21, s.40,
  s.41) none; s.36 the qualified person's opinion;
- s.10(3): an extension for the public interest, for a qualified exemption, notified by the
  due date, at most 20 working days in all (the ICO's reasonable time);
- the response decides every part; a part withheld, in full or in part, names exemptions
  considered for that part that hold; one released or not held names none.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from domain.foi import clock
from domain.kernel.errors import AlreadyExists, RuleBroken, ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.personal import PersonalData
from domain.kernel.topics import stored_as

#: exemption -> (what it protects, whether it is qualified: subject to the public interest test)
EXEMPTIONS: dict[str, tuple[str, bool]] = {
    "s21": ("information reasonably accessible to the applicant by other means", False),
    "s36": ("prejudice to the effective conduct of public affairs", True),
    # s.40(2) with the first condition (disclosure would breach the data protection
    # principles) is absolute (s.2(3)(fa)); the rarer qualified limbs are not offered.
    "s40": ("personal data", False),
    "s41": ("information provided in confidence", False),
    "s43": ("commercial interests", True),
}
#: the Freedom of Information and Data Protection (Appropriate Limit and Fees) Regulations 2004: hours at £25
COST_LIMIT_HOURS = {"central_government": 24, "other": 18}
#: the ICO: an extension for the public interest of no more than 20 further working days
MAX_EXTENSION = 20
WITHHOLDING = ("withheld", "released_in_part")
RELEASING = ("released_in_full", "released_in_part")


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _three_months_on(day: date) -> date:
    """The last day of s.9(2)'s "three months beginning with the day on which the fees notice is given":
    the day before the corresponding date three months on, or the month's last day where it has none."""
    month = day.month + 3
    year, month = day.year + (month - 1) // 12, (month - 1) % 12 + 1
    try:
        return date(year, month, day.day) - timedelta(days=1)
    except ValueError:
        following = date(year + month // 12, month % 12 + 1, 1)
        return following - timedelta(days=1)


@stored_as("domain.foi")
class FoiRequest(LedgerAggregate):
    KIND = "foi_request"

    def __init__(self) -> None:
        self.reference = ""
        self.received_by = ""
        self.received_on = ""
        self.channel = ""
        self.requester_name: PersonalData | None = None
        self.requester_address: PersonalData | None = None
        self.parts: list[str] = []
        self.clarifications: list[dict[str, Any]] = []
        self.fees: list[dict[str, Any]] = []
        self.exemptions: list[dict[str, Any]] = []
        self.extensions: list[dict[str, Any]] = []
        self.due_on: str | None = None
        self.cost_limit_refusal: dict[str, Any] | None = None
        self.response: dict[str, Any] | None = None
        self.review: dict[str, Any] | None = None
        self.ico: dict[str, Any] | None = None

    @staticmethod
    def key(authority: str, reference: str) -> str:
        """What the record's id is made from: the authority's reference is unique only within it."""
        return f"{authority}/{reference}"

    # ---------------------------------------------------------------- the clock

    @property
    def date_of_receipt(self) -> date:
        """s.10(6): the day received or, if later, the day the last clarification's answer arrived."""
        answered = [c["answered_on"] for c in self.clarifications if c["answered_on"]]
        return date.fromisoformat(max([self.received_on, *answered]))

    @property
    def awaiting_clarification(self) -> bool:
        return any(c["answered_on"] is None for c in self.clarifications)

    @property
    def awaiting_fee(self) -> bool:
        return any(f["paid_on"] is None for f in self.fees)

    @property
    def answered(self) -> bool:
        return self.response is not None or self.cost_limit_refusal is not None

    def _due(self, *, clarifications: list[dict[str, Any]] | None = None, fees: list[dict[str, Any]] | None = None,
             extensions: list[dict[str, Any]] | None = None) -> str | None:
        """The due date the record would have with these (else its own) clarifications, fees and extensions."""
        probe = copy.copy(self)
        probe.clarifications = self.clarifications if clarifications is None else clarifications
        probe.fees = self.fees if fees is None else fees
        probe.extensions = self.extensions if extensions is None else extensions
        if probe.awaiting_clarification or probe.awaiting_fee:
            return None
        paused = [(date.fromisoformat(f["issued_on"]), date.fromisoformat(f["paid_on"])) for f in probe.fees]
        days = sum(e["working_days"] for e in probe.extensions)
        return clock.due_date(probe.date_of_receipt, disregarded=paused, extension=days).isoformat()

    # ---------------------------------------------------------------- checks

    def _check_day(self, day: date, field: str, today: date, *, not_before: str | None = None) -> None:
        if day > today:
            raise ValidationFailed(f"{field} {day} is after today ({today}).", code="day_in_future", field=field)
        earliest = not_before or self.received_on
        if day.isoformat() < earliest:
            raise RuleBroken(f"{field} {day} is before {earliest}, when the request stood as it needs to for this.",
                             code="day_before_request", field=field)

    def _check_open(self, action: str) -> None:
        if self.answered:
            raise RuleBroken(f"Request {self.reference} has been answered; it is too late to {action}.", code="request_answered")

    def _check_part(self, part: int, field: str = "part") -> None:
        if not 1 <= part <= len(self.parts):
            raise ValidationFailed(f"Request {self.reference} has parts 1 to {len(self.parts)}; there is no part {part}.",
                                   code="unknown_part", field=field)

    # ---------------------------------------------------------------- received

    @classmethod
    def receive(cls, *, authority: str, reference: str, received_on: date, channel: str, requester: str,
                name: str, address: str, parts: list[str], today: date) -> FoiRequest:
        if received_on > today:
            raise ValidationFailed(f"received_on {received_on} is after today ({today}).", code="day_in_future", field="received_on")
        return cls._create(
            cls.Received, id=cls.id_for(cls.key(authority, reference)), reference=reference, received_by=authority,
            received_on=received_on.isoformat(), channel=channel, requester_name=PersonalData(requester, name),
            requester_address=PersonalData(requester, address), parts=list(parts),
            due_on=clock.due_date(received_on).isoformat(),
        )

    class Received(LedgerAggregate.Created):
        reference: str
        received_by: str
        received_on: str
        channel: str
        requester_name: PersonalData
        requester_address: PersonalData
        parts: list
        due_on: str

        def apply(self, r: FoiRequest) -> None:
            r.reference, r.received_by, r.received_on, r.channel = self.reference, self.received_by, self.received_on, self.channel
            r.requester_name, r.requester_address = self.requester_name, self.requester_address
            r.parts, r.due_on = list(self.parts), self.due_on

    # ---------------------------------------------------------------- s.1(3) clarification

    def seek_clarification(self, *, sought_on: date, question: str, today: date) -> None:
        self._check_open("seek clarification")
        self._check_day(sought_on, "sought_on", today)
        if self.awaiting_clarification:
            raise RuleBroken(f"A clarification of request {self.reference} is already awaited; record its answer first.",
                             code="clarification_awaited")
        self.trigger_event(self.ClarificationSought, sought_on=sought_on.isoformat(), question=question)

    class ClarificationSought(LedgerAggregate.Event):
        sought_on: str
        question: str

        def apply(self, r: FoiRequest) -> None:
            r.clarifications.append({"sought_on": self.sought_on, "question": self.question, "answered_on": None, "answer": None})
            r.due_on = None

    def record_clarification(self, *, received_on: date, answer: str, parts: list[str] | None, today: date) -> dict[str, Any]:
        if not self.awaiting_clarification:
            raise RuleBroken(f"No clarification of request {self.reference} is awaited.", code="no_clarification_awaited")
        self._check_day(received_on, "received_on", today, not_before=self.clarifications[-1]["sought_on"])
        answered = [*self.clarifications[:-1], {**self.clarifications[-1], "answered_on": received_on.isoformat(), "answer": answer}]
        due = self._due(clarifications=answered)
        self.trigger_event(self.ClarificationReceived, received_on=received_on.isoformat(), answer=answer,
                           parts=list(parts) if parts else None, due_on=due)
        return {"due_on": due}

    class ClarificationReceived(LedgerAggregate.Event):
        received_on: str
        answer: str
        parts: list | None
        due_on: str | None

        def apply(self, r: FoiRequest) -> None:
            r.clarifications[-1] = {**r.clarifications[-1], "answered_on": self.received_on, "answer": self.answer}
            if self.parts:
                r.parts = list(self.parts)
            r.due_on = self.due_on

    # ---------------------------------------------------------------- s.9 fees, s.12 cost limit

    def issue_fees_notice(self, *, issued_on: date, amount_pence: int, basis: str, today: date) -> None:
        self._check_open("issue a fees notice")
        self._check_day(issued_on, "issued_on", today)
        if amount_pence < 1:
            raise ValidationFailed("A fees notice asks for a fee of at least 1p.", code="fee_required", field="amount_pence")
        if self.awaiting_fee:
            raise RuleBroken(f"A fee for request {self.reference} is already awaited.", code="fee_awaited")
        self.trigger_event(self.FeesNoticeIssued, issued_on=issued_on.isoformat(), amount_pence=amount_pence, basis=basis)

    class FeesNoticeIssued(LedgerAggregate.Event):
        issued_on: str
        amount_pence: int
        basis: str

        def apply(self, r: FoiRequest) -> None:
            r.fees.append({"issued_on": self.issued_on, "amount_pence": self.amount_pence, "basis": self.basis, "paid_on": None})
            r.due_on = None

    def record_fee_paid(self, *, paid_on: date, today: date) -> dict[str, Any]:
        if not self.awaiting_fee:
            raise RuleBroken(f"No fee for request {self.reference} is awaited.", code="no_fee_awaited")
        notice = self.fees[-1]
        self._check_day(paid_on, "paid_on", today, not_before=notice["issued_on"])
        last = _three_months_on(date.fromisoformat(notice["issued_on"]))
        if paid_on > last:
            raise RuleBroken(
                f"The fees notice of {notice['issued_on']} lapsed after {last} (three months, FOIA s.9(2)): "
                "the authority need not comply, and a payment since cannot restart the clock.",
                code="fees_notice_lapsed", field="paid_on")
        due = self._due(fees=[*self.fees[:-1], {**notice, "paid_on": paid_on.isoformat()}])
        self.trigger_event(self.FeePaid, paid_on=paid_on.isoformat(), due_on=due)
        return {"due_on": due}

    class FeePaid(LedgerAggregate.Event):
        paid_on: str
        due_on: str | None

        def apply(self, r: FoiRequest) -> None:
            r.fees[-1] = {**r.fees[-1], "paid_on": self.paid_on}
            r.due_on = self.due_on

    def refuse_over_cost_limit(self, *, sent_on: date, authority: str, estimated_hours: int, estimate_basis: str,
                               advice: str, today: date) -> None:
        self._check_open("refuse it over the cost limit")
        self._check_day(sent_on, "sent_on", today)
        limit = COST_LIMIT_HOURS[authority]
        if estimated_hours <= limit:
            raise RuleBroken(
                f"{estimated_hours} hours at £25 is within the appropriate limit of £{limit * 25} ({limit} hours) "
                "for this authority: section 12 does not apply.", code="within_cost_limit", field="estimated_hours")
        if _blank(estimate_basis):
            raise ValidationFailed("A cost limit refusal says how the estimate was reached.", code="estimate_basis_required",
                                   field="estimate_basis")
        if _blank(advice):
            raise ValidationFailed("A cost limit refusal offers advice and assistance to bring the request within the limit (s.16).",
                                   code="advice_and_assistance_required", field="advice_and_assistance")
        self.trigger_event(self.RefusedOverCostLimit, sent_on=sent_on.isoformat(), limit_hours=limit,
                           estimated_hours=estimated_hours, estimate_basis=estimate_basis, advice=advice)

    class RefusedOverCostLimit(LedgerAggregate.Event):
        sent_on: str
        limit_hours: int
        estimated_hours: int
        estimate_basis: str
        advice: str

        def apply(self, r: FoiRequest) -> None:
            r.cost_limit_refusal = {"sent_on": self.sent_on, "limit_hours": self.limit_hours, "estimated_hours": self.estimated_hours,
                                    "estimate_basis": self.estimate_basis, "advice": self.advice}

    # ---------------------------------------------------------------- exemptions

    def consider_exemption(self, *, part: int, exemption: str, considered_on: date, grounds: str,
                           public_interest: dict[str, Any] | None, qualified_person_opinion: str | None, today: date) -> None:
        if self.answered and not (self.review and self.review["decided_on"] is None):
            raise RuleBroken(f"Request {self.reference} has been answered; exemptions are considered again only on an internal review.",
                             code="request_answered")
        self._check_part(part)
        self._check_day(considered_on, "considered_on", today)
        name, qualified = EXEMPTIONS[exemption]
        if _blank(grounds):
            raise ValidationFailed(f"An exemption needs its reason: why {exemption} ({name}) is engaged for part {part}.",
                                   code="exemption_reason_required", field="grounds")
        if qualified and public_interest is None:
            raise ValidationFailed(
                f"{exemption} ({name}) is a qualified exemption: record the public interest test (factors for and against "
                "disclosure, and the conclusion).", code="public_interest_test_required", field="public_interest")
        if not qualified and public_interest is not None:
            raise ValidationFailed(f"{exemption} ({name}) is an absolute exemption: there is no public interest test to record.",
                                   code="public_interest_test_not_applicable", field="public_interest")
        if public_interest is not None:
            for side in ("factors_for_disclosure", "factors_for_withholding"):
                if not [f for f in public_interest[side] if not _blank(f)]:
                    raise ValidationFailed(f"The public interest test weighs factors on both sides: {side} lists none.",
                                           code="public_interest_factors_required", field=f"public_interest.{side}")
            if _blank(public_interest["reasoning"]):
                raise ValidationFailed("The public interest test says why its conclusion follows.",
                                       code="public_interest_reasoning_required", field="public_interest.reasoning")
        if exemption == "s36" and _blank(qualified_person_opinion):
            raise ValidationFailed("Section 36 is engaged only in the reasonable opinion of the qualified person: record it.",
                                   code="qualified_person_opinion_required", field="qualified_person_opinion")
        if exemption != "s36" and qualified_person_opinion is not None:
            raise ValidationFailed("Only section 36 rests on a qualified person's opinion.", code="qualified_person_opinion_not_applicable",
                                   field="qualified_person_opinion")
        self.trigger_event(self.ExemptionConsidered, part=part, exemption=exemption, considered_on=considered_on.isoformat(),
                           grounds=grounds, public_interest=copy.deepcopy(public_interest),
                           qualified_person_opinion=qualified_person_opinion)

    class ExemptionConsidered(LedgerAggregate.Event):
        part: int
        exemption: str
        considered_on: str
        grounds: str
        public_interest: dict | None
        qualified_person_opinion: str | None

        def apply(self, r: FoiRequest) -> None:
            # A later consideration of the same exemption for the same part stands in for the earlier.
            kept = [e for e in r.exemptions if (e["part"], e["exemption"]) != (self.part, self.exemption)]
            r.exemptions = [*kept, {"part": self.part, "exemption": self.exemption, "considered_on": self.considered_on,
                                    "grounds": self.grounds, "public_interest": copy.deepcopy(self.public_interest),
                                    "qualified_person_opinion": self.qualified_person_opinion}]

    def holds(self, part: int, exemption: str) -> bool | None:
        """Whether the exemption, as considered for the part, allows withholding (None: not considered)."""
        for e in self.exemptions:
            if (e["part"], e["exemption"]) == (part, exemption):
                return e["public_interest"] is None or e["public_interest"]["conclusion"] == "maintain_exemption"
        return None

    # ---------------------------------------------------------------- s.10(3) extension

    def extend_for_public_interest(self, *, notified_on: date, exemption: str, working_days: int, why: str, today: date) -> dict[str, Any]:
        self._check_open("extend the time")
        self._check_day(notified_on, "notified_on", today)
        name, qualified = EXEMPTIONS[exemption]
        if not qualified:
            raise RuleBroken(f"{exemption} ({name}) is absolute: s.10(3) gives more time only for a public interest test.",
                             code="extension_needs_qualified_exemption", field="exemption")
        if _blank(why):
            raise ValidationFailed("An extension says why the public interest test needs the time.", code="extension_reason_required",
                                   field="why")
        if self.due_on is None:
            raise RuleBroken(f"Request {self.reference}'s clock is stopped; there is no due date to extend.", code="clock_stopped")
        if notified_on.isoformat() > self.due_on:
            raise RuleBroken(f"An extension is notified by the due date ({self.due_on}), not on {notified_on} (s.17(2)).",
                             code="extension_too_late", field="notified_on")
        taken = sum(e["working_days"] for e in self.extensions)
        if taken + working_days > MAX_EXTENSION:
            raise RuleBroken(f"Extensions of request {self.reference} would come to {taken + working_days} working days; "
                             f"the ICO takes {MAX_EXTENSION} as the most that is reasonable.", code="extension_too_long",
                             field="working_days")
        extension = {"notified_on": notified_on.isoformat(), "exemption": exemption, "working_days": working_days, "why": why}
        due = self._due(extensions=[*self.extensions, extension])
        self.trigger_event(self.ExtendedForPublicInterest, extension=extension, due_on=due)
        return {"due_on": due}

    class ExtendedForPublicInterest(LedgerAggregate.Event):
        extension: dict
        due_on: str | None

        def apply(self, r: FoiRequest) -> None:
            r.extensions = [*r.extensions, dict(self.extension)]
            r.due_on = self.due_on

    # ---------------------------------------------------------------- the response

    def send_response(self, *, sent_on: date, decisions: list[dict[str, Any]], today: date) -> dict[str, Any]:
        if self.response is not None:
            raise AlreadyExists(f"The response to request {self.reference} was sent on {self.response['sent_on']}.",
                                code="response_already_sent")
        self._check_open("send a response")
        if self.awaiting_clarification:
            raise RuleBroken(f"A clarification of request {self.reference} is awaited; record its answer first.",
                             code="clarification_awaited")
        self._check_day(sent_on, "sent_on", today)
        problems = self._decision_problems(decisions)
        if problems:
            raise ValidationFailed(problems[0]["message"], code=problems[0]["rule"], fields=problems)
        late = self.due_on is not None and sent_on.isoformat() > self.due_on
        ordered = sorted((copy.deepcopy(d) for d in decisions), key=lambda d: d["part"])
        self.trigger_event(self.ResponseSent, sent_on=sent_on.isoformat(), decisions=ordered, late=late)
        return {"late": late, "due_on": self.due_on}

    def _decision_problems(self, decisions: list[dict[str, Any]]) -> list[dict[str, str]]:
        problems: list[dict[str, str]] = []

        def problem(field: str, rule: str, message: str) -> None:
            problems.append({"field": field, "rule": rule, "message": message})

        seen: set[int] = set()
        for i, d in enumerate(decisions):
            at, part = f"decisions[{i}]", d["part"]
            if not 1 <= part <= len(self.parts):
                problem(f"{at}.part", "unknown_part", f"Request {self.reference} has parts 1 to {len(self.parts)}; there is no part {part}.")
                continue
            if part in seen:
                problem(f"{at}.part", "part_decided_twice", f"Part {part} is decided twice.")
            seen.add(part)
            withholds = d["outcome"] in WITHHOLDING
            if withholds and not d["exemptions"]:
                problem(f"{at}.exemptions", "exemption_required", f"Part {part} is {d['outcome'].replace('_', ' ')}: name the exemptions relied on.")
            if not withholds and d["exemptions"]:
                problem(f"{at}.exemptions", "exemption_without_withholding",
                        f"Part {part} is {d['outcome'].replace('_', ' ')}: nothing is withheld, so no exemption is relied on.")
            for exemption in d["exemptions"] if withholds else ():
                holds = self.holds(part, exemption)
                if holds is None:
                    problem(f"{at}.exemptions", "exemption_not_considered",
                            f"{exemption} has not been considered for part {part}: record its grounds first.")
                elif not holds:
                    problem(f"{at}.exemptions", "public_interest_favours_disclosure",
                            f"The public interest test for {exemption} on part {part} concluded for disclosure.")
            if d["outcome"] in RELEASING and _blank(d["released"]):
                problem(f"{at}.released", "release_description_required", f"Part {part} is released: say what, for the disclosure log.")
        for part in range(1, len(self.parts) + 1):
            if part not in seen:
                problem("decisions", "part_without_decision", f"Part {part} (\"{self.parts[part - 1][:80]}\") has no decision.")
        return problems

    class ResponseSent(LedgerAggregate.Event):
        sent_on: str
        decisions: list
        late: bool

        def apply(self, r: FoiRequest) -> None:
            r.response = {"sent_on": self.sent_on, "decisions": copy.deepcopy(self.decisions), "late": self.late}

    # ---------------------------------------------------------------- internal review and the ICO

    def request_internal_review(self, *, requested_on: date, grounds: str, today: date) -> None:
        if not self.answered:
            raise RuleBroken(f"Request {self.reference} has not been answered; a review is of an answer.", code="not_answered")
        if self.review is not None:
            raise AlreadyExists(f"An internal review of request {self.reference} was requested on {self.review['requested_on']}.",
                                code="review_already_requested")
        self._check_day(requested_on, "requested_on", today, not_before=self.answered_on)
        self.trigger_event(self.InternalReviewRequested, requested_on=requested_on.isoformat(), grounds=grounds)

    @property
    def answered_on(self) -> str:
        return (self.response or self.cost_limit_refusal or {}).get("sent_on", self.received_on)

    class InternalReviewRequested(LedgerAggregate.Event):
        requested_on: str
        grounds: str

        def apply(self, r: FoiRequest) -> None:
            r.review = {"requested_on": self.requested_on, "grounds": self.grounds, "decided_on": None, "outcome": None, "findings": None}

    def decide_internal_review(self, *, decided_on: date, outcome: str, findings: str, today: date) -> None:
        if self.review is None or self.review["decided_on"] is not None:
            raise RuleBroken(f"No internal review of request {self.reference} is open.", code="no_review_open")
        self._check_day(decided_on, "decided_on", today, not_before=self.review["requested_on"])
        self.trigger_event(self.InternalReviewDecided, decided_on=decided_on.isoformat(), outcome=outcome, findings=findings)

    class InternalReviewDecided(LedgerAggregate.Event):
        decided_on: str
        outcome: str
        findings: str

        def apply(self, r: FoiRequest) -> None:
            r.review = {**(r.review or {}), "decided_on": self.decided_on, "outcome": self.outcome, "findings": self.findings}

    def record_ico_complaint(self, *, notified_on: date, ico_reference: str, today: date) -> None:
        if self.ico is not None:
            raise AlreadyExists(f"The ICO's complaint {self.ico['reference']} about request {self.reference} is on record.",
                                code="ico_complaint_exists")
        self._check_day(notified_on, "notified_on", today)
        self.trigger_event(self.IcoComplaintRecorded, notified_on=notified_on.isoformat(), ico_reference=ico_reference)

    class IcoComplaintRecorded(LedgerAggregate.Event):
        notified_on: str
        ico_reference: str

        def apply(self, r: FoiRequest) -> None:
            r.ico = {"reference": self.ico_reference, "notified_on": self.notified_on, "decided_on": None, "outcome": None,
                     "decision_notice": None, "summary": None}

    def record_ico_decision(self, *, decided_on: date, outcome: str, decision_notice: str | None, summary: str, today: date) -> None:
        if self.ico is None or self.ico["decided_on"] is not None:
            raise RuleBroken(f"No complaint to the ICO about request {self.reference} awaits a decision.", code="no_ico_complaint_open")
        self._check_day(decided_on, "decided_on", today, not_before=self.ico["notified_on"])
        self.trigger_event(self.IcoDecisionRecorded, decided_on=decided_on.isoformat(), outcome=outcome,
                           decision_notice=decision_notice, summary=summary)

    class IcoDecisionRecorded(LedgerAggregate.Event):
        decided_on: str
        outcome: str
        decision_notice: str | None
        summary: str

        def apply(self, r: FoiRequest) -> None:
            r.ico = {**(r.ico or {}), "decided_on": self.decided_on, "outcome": self.outcome,
                     "decision_notice": self.decision_notice, "summary": self.summary}
