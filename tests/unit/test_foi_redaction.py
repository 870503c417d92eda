"""Who may extract for FOI, which events go in, and the redaction policy's own shape (pure)."""

from __future__ import annotations

import json

from domain import access
from domain.foi_redaction import POLICY, described
from domain.kernel.metadata import Actor


def test_a_sealed_tender_or_another_authoritys_competition_never_goes_into_an_extract():
    assert not access.released_in_extract(access.SEALED_TENDER)
    assert not access.released_in_extract(access.ANOTHER_AUTHORITYS)
    # What the feed withholds from an FOI officer otherwise goes in, redacted field by field.
    for withheld in (None, access.EVALUATION_WORKING, access.CLARIFICATION_ASKER, access.CONCERN):
        assert access.released_in_extract(withheld)


def test_only_the_oversight_extract_and_evaluators_are_named_only_on_a_release():
    for role in ("auditor", "foi_officer", "admin"):
        reader = Actor(role=role, org="NEL-CSU", id="x")
        assert access.may_extract(reader)
        assert not access.discloses_evaluators(reader, released=False)  # an auditor's own right releases nothing
        assert access.discloses_evaluators(reader, released=True)
    for role in ("procurement_lead", "commissioner", "contract_manager", "provider", "evaluator", "system"):
        assert not access.may_extract(Actor(role=role, org="NEL-CSU", id="x"))


def test_every_rule_says_its_kind_exemption_and_why_and_the_policy_reads_as_data():
    assert len({r.name for r in POLICY}) == len(POLICY)
    for rule in POLICY:
        assert rule.exemption.startswith("FOIA s.") and rule.kind and rule.why.endswith(".")
        assert rule.personal_data or all(p.startswith("/") for p in rule.paths)
        assert rule.when in ("always", "bidder_won_nothing", "a_person_acted")
    assert json.loads(json.dumps(described()))[0]["rule"] == POLICY[0].name
