"""The FOI redaction policy, as data: what an FOI extract withholds, under which exemption, and why.

An extract (`audit.foi_extract`) is a disclosure to the world, so these rules apply whoever
extracts it (an auditor who may read everything releases no more than an FOI officer). Who may
extract at all, and which events go in, is `domain.access` (`may_extract`,
`released_in_extract`, `discloses_evaluators`); this table says what of each released record
is withheld. Each rule names:

- `events`: the event classes it applies to (empty: every event);
- `paths`: JSON Pointers into a released record (RFC 6901: `/who/id`, `/fields/accounts`), whose
  segments may be `*` (any key or item), `{won_nothing}` (a key, or a list item's `bidder`,
  naming a bidder that won no lot), or `{lot_not_won}` (a lot the event's bidder did not win);
  a rule with `personal_data` set matches instead every value stored as encrypted personal data
  (`domain.kernel.personal.PersonalData`), wherever it is in the event;
- `when`: "always", "bidder_won_nothing" (the event's bidder, or the provider that acted, won
  no lot: unsuccessful, or no outcome yet), or "a_person_acted" (the actor is not the system);
- `unless`: "evaluators_released": where evaluators are released (a person's decision, recorded
  in the manifest) the rule releases the value instead of withholding it;
- `kind`, `exemption` and `why`: what the redaction schedule says of each withholding.

The rules are tried in order; the first whose events, path and `when` match a value decides it
(withheld, or released by its `unless`), so the narrower rules come first. Which bidders were
unsuccessful is read from the competition's outcome (`domain.procurement.outcome`): a bidder
that won no lot, or every bidder while no outcome is decided (nothing of a live or cancelled
round's tenders is released). A value that is empty (null, "", [], {}) withholds nothing and is
released as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.event_view import CONCERNS, EVALUATION_WORKING
from domain.kernel.data_subjects import DataSubject
from domain.procurement.competition import Competition

POLICY_VERSION = "aqp-foi-redaction-v1"

PERSONAL = "personal data"
COMMERCIAL = "commercial interests"
EVALUATOR = "evaluator identity"
CONFIDENCE = "information provided in confidence"

S40 = "FOIA s.40(2)"
S43 = "FOIA s.43(2)"
S41 = "FOIA s.41(1)"

#: the events that say what a bidder tendered, or what the panel made of it
_TENDER_CONTENT = (
    Competition.ScoreRecorded,
    Competition.ScoreModerated,
    Competition.ComplianceChecked,
    Competition.FinancesAssessed,
    Competition.GuaranteeOffered,
    Competition.EvaluationClarificationIssued,
    Competition.EvaluationClarificationAnswered,
    Competition.ChallengeReceived,
)


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    exemption: str
    why: str
    events: tuple[type, ...] = ()
    paths: tuple[str, ...] = ()
    personal_data: bool = False
    when: str = "always"
    unless: str | None = None


POLICY: tuple[Rule, ...] = (
    Rule(
        "evaluator_name", EVALUATOR, S40,
        "An evaluator's name is their personal data; it is released only where a person decided to release evaluators' identities.",
        events=(Competition.EvaluatorAppointed,), paths=("/fields/name",), unless="evaluators_released",
    ),
    Rule(
        "personal_data", PERSONAL, S40,
        "Personal data of a named individual (stored encrypted for that person); disclosing it would breach the data protection principles.",
        personal_data=True,
    ),
    Rule(
        "evaluator_identity", EVALUATOR, S40,
        "Who evaluated (scored, declared, checked, assessed or moderated) identifies a member of staff; released only where a person decided to release evaluators' identities.",
        events=EVALUATION_WORKING,
        paths=("/who/id", "/fields/evaluator", "/fields/moderator", "/fields/checked_by", "/fields/individual_scores"),
        unless="evaluators_released",
    ),
    Rule(
        "clarification_asker", COMMERCIAL, S43,
        "Who asked a clarification question, and its wording before anonymisation, is kept from the other bidders; the published question and answer are released.",
        events=(Competition.ClarificationAsked,), paths=("/who/id", "/who/org", "/fields/asked_by", "/fields/question"),
    ),
    Rule(
        "concern", CONFIDENCE, S41,
        "A concern shared with commissioners about a home was given in confidence.",
        events=CONCERNS, paths=("/fields/*",),
    ),
    Rule(
        "bidder_finances", COMMERCIAL, S43,
        "A bidder's accounts, financial ratios and credit score are its own commercial information, whether or not it won.",
        events=(Competition.FinancesAssessed,), paths=("/fields/accounts", "/fields/ratios", "/fields/credit_score", "/fields/failures"),
    ),
    Rule(
        "unsuccessful_tender", COMMERCIAL, S43,
        "What an unsuccessful bidder tendered (its prices, its evidence, the panel's reading of it, its guarantor, its challenge) would prejudice its commercial interests.",
        events=_TENDER_CONTENT,
        paths=(
            "/fields/justification", "/fields/rationale", "/fields/note", "/fields/offered_prices", "/fields/over_cap",
            "/fields/guarantor", "/fields/guarantor_company_number", "/fields/question", "/fields/response", "/fields/grounds",
        ),
        when="bidder_won_nothing",
    ),
    Rule(
        "price_for_a_lot_not_won", COMMERCIAL, S43,
        "A price a bidder offered for a lot it did not win is not a contract price, and would prejudice its commercial interests.",
        events=(Competition.FinancesAssessed,), paths=("/fields/offered_prices/{lot_not_won}", "/fields/over_cap/{lot_not_won}"),
    ),
    Rule(
        "unsuccessful_outcome", COMMERCIAL, S43,
        "Why a bidder lost a lot (failed checks, financial findings, prices over the cap) and the letter to a bidder that won nothing are its commercial information.",
        events=(Competition.OutcomeDecided, Competition.OutcomeLettersIssued),
        paths=("/fields/lots/*/unsuccessful/*", "/fields/bidders/{won_nothing}/reasons", "/fields/letters/{won_nothing}",
               "/fields/letters/*/lots/*/reasons"),
    ),
    Rule(
        "staff_identity", PERSONAL, S40,
        "The account of the person who acted, or who reviewed or was erased, identifies an individual; their role and organisation are released.",
        paths=("/who/id", "/fields/reviewer"), when="a_person_acted",
    ),
    Rule(
        "data_subject", PERSONAL, S40,
        "A person's own id, on the record of the erasure of their personal data.",
        events=(DataSubject.Erased, DataSubject.ErasedAgain), paths=("/record/reference", "/fields/subject"),
    ),
)


def described(policy: tuple[Rule, ...] = POLICY) -> list[dict[str, object]]:
    """The policy as JSON-ready data (for the manifest, and whoever renders the schedule)."""
    return [
        {
            "rule": r.name,
            "kind": r.kind,
            "exemption": r.exemption,
            "why": r.why,
            "events": [e.__qualname__ for e in r.events] or ["*"],
            "paths": ["(every value stored as personal data)"] if r.personal_data else list(r.paths),
            "when": r.when,
            "unless": r.unless,
        }
        for r in policy
    ]
