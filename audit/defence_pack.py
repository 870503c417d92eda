"""The procurement report (decision-defence pack): a competition's decision as facts, each proven.

`aqp defend COMPETITION [--lot L] [--for-bidder B] --out DIR` and
`GET /competitions/{id}/defence-pack` build it; `python -m audit.verifier pack DIR --key KEYS`
checks it offline with the public key alone. It is data, for a rendering to come (HTML, PDF):

- `sections`: each a list of facts; a fact is a `statement` with `{name}` placeholders and its
  `values`; each value is a `claim` that it equals the field at `path` of the stored event at
  notification position `event` (personal data: that the field holds the subject's ciphertext,
  which the leaf hashes, so an erased subject still verifies, shown "[erased]"), and `cites` are
  the events it rests on (footnotes);
- `recomputations`: each bidder's agreed scores and weighted score, recomputed from the cited
  score and moderation events against the published criteria, beside the decided ones;
- `events`: every cited event as stored (the exact bytes the Merkle leaf hashes), its footnote
  (position, type, who, role, organisation, when, why), its leaf and its inclusion proof;
- `checkpoint`: the one signed checkpoint every proof leads to; `signature`: the ledger's signed
  note of every fact's digest, so a changed word in a statement fails the fact it is in.

Every value is read from the cited event's stored JSON, never from a read model, so the
verifier re-derives it without our code. Who may have which pack: `access.may_have_defence_pack`.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from eventsourcing.persistence import StoredEvent

from audit.bundle import NotYetProvable, record_and_proof
from audit.checkpoints import DEFAULT_ORIGIN, Checkpoints, StoredCheckpoint
from audit.log import AuditLog
from audit.signing import NoteSigner, sign_note
from audit.verifier.digest import digest
from audit.verifier.leaf import canonical_originator_id
from domain import access
from domain.event_view import LedgerFacts, plain, sees_personal_data_in, withheld_because
from domain.kernel.errors import RuleBroken, no_such
from domain.kernel.metadata import Actor
from domain.kernel.working_days import CalendarNotCovered, is_working_day
from domain.procurement.competition import Competition
from domain.procurement.outcome import FINANCIAL_RATIOS, compute_outcome
from domain.procurement.standstill import LONDON
from domain.procurement.views import there_for

PACK_FORMAT = "aqp-defence-pack-v1"
PACK_NOTE_HEADER = "aqp-defence-pack-v1"
_TOPIC = "domain.procurement:Competition."


fact_digest = digest


def field_at(state: Any, path: list[Any]) -> Any:
    """The value at `path` in a stored event's JSON; a stored time reads as its ISO text."""
    node = state
    for step in path:
        node = node[step]
    if isinstance(node, dict) and node.get("_type_") == "datetime_iso":
        return node["_data_"]
    return node


class _Stored:
    def __init__(self, nid: int, oid: Any, version: int, topic: str, state: bytes) -> None:
        self.nid, self.oid, self.version, self.topic, self.state = nid, oid, version, topic, bytes(state)
        self.json = json.loads(self.state)
        self.name = topic.removeprefix(_TOPIC)


def _named_bidders(event: _Stored) -> set[str]:
    """The bidders a stored record names (what a bidder's pack may not carry of others)."""
    s = event.json
    if event.name == "TendersOpened":
        return set(s["bidders"])
    if event.name == "ConflictsDeclared":
        return {d["bidder"] for d in s["declarations"]}
    if event.name == "OutcomeDecided":
        return set(s["bidders"])
    if event.name == "OutcomeLettersIssued":
        return {l["bidder"] for l in s["letters"]}
    if event.name == "AwardConcluded":
        return {b for winners in s["awards"].values() for b in winners}
    if event.name == "ClarificationAsked":
        return {s["asked_by"]}
    return {s["bidder"]} if "bidder" in s else set()


class _Pack:
    """Facts gathered section by section, each with the events it cites."""

    def __init__(self, events: dict[int, _Stored], *, keep: Any, for_bidder: str | None) -> None:
        self.events = events
        self.for_bidder = for_bidder
        self.keep = keep
        self.sections: list[dict[str, Any]] = []
        self.personal: dict[tuple[int, str], str] = {}

    def section(self, key: str, title: str) -> None:
        self.sections.append({"id": key, "title": title, "facts": []})

    def fact(
        self,
        statement: str,
        claims: dict[str, tuple[int, list[Any]]],
        *,
        about: set[str] | frozenset[str] = frozenset(),
        kind: str = "public",
        cites: tuple[int, ...] = (),
        personal: dict[str, tuple[int, list[Any]]] | None = None,
    ) -> None:
        if not self.keep(about=set(about), kind=kind):
            return
        values: dict[str, Any] = {}
        listed = []
        for name, (nid, path) in claims.items():
            values[name] = field_at(self.events[nid].json, path)
            listed.append({"value": name, "event": nid, "path": list(path)})
        for name, (nid, path) in (personal or {}).items():
            values[name] = self.personal.get((nid, path[0]), "[withheld]")
            listed.append({"value": name, "event": nid, "path": list(path), "personal": True})
        cited = sorted({c["event"] for c in listed} | set(cites))
        facts = self.sections[-1]["facts"]
        facts.append(
            {
                "id": f"{self.sections[-1]['id']}-{len(facts) + 1}",
                "statement": statement,
                "values": values,
                "claims": listed,
                "cites": cited,
            }
        )


def _lacks(c: Competition) -> list[str]:
    """What a competition without an outcome still lacks, in the order the law takes them."""
    lacking = []
    if not c.criteria:
        lacking.append("published criteria and weights")
    if c.opened_at is None:
        lacking.append("the opening of the tenders (after the tender deadline)")
    elif not c.evaluators:
        lacking.append("evaluators appointed to the panels")
    else:
        try:
            compute_outcome(c)
        except RuleBroken as err:
            lacking.append(f"a complete evaluation ({err.message})")
    lacking.append("the outcome decided")
    return lacking


def build_pack(
    ledger: Any,
    reference: str,
    reader: Actor,
    *,
    lot: str | None = None,
    for_bidder: str | None = None,
    signer: NoteSigner | None = None,
    origin: str = DEFAULT_ORIGIN,
    writes: bool = False,
) -> dict[str, Any]:
    """The pack of competition `reference` for `reader`; NotFound where they may not have it.

    `writes`: the operator's CLI may catch the Merkle log up and sign a checkpoint covering the
    cited events; the API reads only and proves against the latest signed checkpoint.
    """
    competition = ledger.competition(reference)
    if for_bidder is None and access.sees_only_its_own(reader):
        for_bidder = reader.org
    if not there_for(competition, reader) or not access.may_have_defence_pack(reader, for_bidder=for_bidder):
        raise no_such(Competition.KIND, reference)
    if for_bidder is not None and for_bidder not in competition.tenders:
        raise no_such("bidder", f"{for_bidder} in {reference}")
    if lot is not None and lot not in competition.lots:
        raise no_such("lot", f"{lot} of {reference}")
    if competition.outcome is None:
        raise RuleBroken(
            f"{reference} has no outcome yet, so there is no decision to defend. It lacks: " + "; ".join(_lacks(competition)) + ".",
            code="outcome_not_decided",
        )
    # A read creates nothing: without the Merkle log's tables nothing is signed, so nothing can be proven yet.
    log = AuditLog(ledger, create_tables=writes)
    if writes:
        log.catch_up()
    elif not all(log.store.table_exists(t) for t in ("audit_leaves", "audit_nodes", "audit_checkpoints")):
        raise NotYetProvable("the ledger has signed no checkpoint yet")
    events = {
        nid: _Stored(nid, oid, version, topic, state)
        for nid, oid, version, topic, state in log.store.stored_events()
        if canonical_originator_id(oid) == str(competition.id)
    }
    outcome_lots = competition.outcome["lots"]
    lots = [lot] if lot else sorted(competition.lots)
    winners = {b for lt in lots for b in outcome_lots[lt]["successful"]}
    entrants = {b for b, t in competition.tenders.items() if lot is None or lot in t["lots"]}

    def keep(*, about: set[str], kind: str) -> bool:
        if about and not about & entrants:
            return False
        if for_bidder is None:
            return True
        if kind == "working":
            return False
        if kind == "own":
            return about == {for_bidder}
        return about <= {for_bidder} | winners

    pack = _Pack(events, keep=keep, for_bidder=for_bidder)
    policy_viewer = reader if for_bidder is None or access.sees_only_its_own(reader) else Actor(
        id=f"bidder:{for_bidder}", org=for_bidder, role="provider"
    )
    facts = LedgerFacts(ledger)
    domain_events = {nid: ledger.mapper.to_domain_event(StoredEvent(e.oid, e.version, e.topic, e.state)) for nid, e in events.items()}
    for nid, event in domain_events.items():
        if events[nid].name == "EvaluatorAppointed":
            shows = withheld_because(event, policy_viewer, facts) is None and sees_personal_data_in(event, policy_viewer, facts)
            for field in ("name", "email"):
                if getattr(event, field, None) is not None:
                    pack.personal[(nid, field)] = plain(getattr(event, field), personal=shows)
    _gather(pack, events, lots, competition)

    cited = sorted({n for s in pack.sections for f in s["facts"] for n in f["cites"]})
    checkpoints = Checkpoints(log, create_tables=writes)
    checkpoint = _covering(log, checkpoints, cited, signer=signer if writes else None, origin=origin)
    carried: dict[str, Any] = {}
    for nid in cited:
        stored = events[nid]
        withheld = withheld_because(domain_events[nid], policy_viewer, facts)
        if withheld is None and for_bidder is not None and not access.bidder_pack_shows_record(
            for_bidder, names=_named_bidders(stored), successful=winners
        ):
            withheld = "names_other_bidders"
        proven = record_and_proof(log, checkpoint, nid, withheld=withheld)
        meta = stored.json.get("meta", {})
        actor = meta.get("actor") or {}
        # Who did it goes with what it says (`event_view.WITHHELD_WITH_CONTENT`): a withheld record's
        # footnote keeps its place, type and time.
        said = withheld is None
        proven["footnote"] = {
            "position": nid,
            "type": stored.name,
            "who": actor.get("id") if said else None,
            "role": actor.get("role") if said else None,
            "org": actor.get("org") if said else None,
            "when": meta.get("recorded_at"),
            "why": meta.get("reason") if said else None,
        }
        carried[str(nid)] = proven
    pack_out: dict[str, Any] = {
        "format": PACK_FORMAT,
        "competition": reference,
        "lot": lot,
        "for_bidder": for_bidder,
        "reader": {"id": reader.id, "org": reader.org, "role": reader.role},
        "sections": pack.sections,
        "recomputations": [] if for_bidder else _recomputations(competition, events, lots, entrants),
        "standstill_days": _standstill_days(events, opened_regime(events)),
        "events": carried,
        "checkpoint": checkpoint.note,
        "checkpoint_seq": checkpoint.seq,
        "signature": None,
    }
    if signer is not None:
        pack_out["signature"] = sign_note(pack_note_text(pack_out, origin), [signer])
    return pack_out


def pack_note_text(pack: dict[str, Any], origin: str) -> str:
    """What the ledger signs of a pack: its subject, its checkpoint, and every fact's digest.

    Its first line is never a tree size's, so the note can never pass for a checkpoint."""
    first = pack["checkpoint"].split("\n")
    lines = [
        PACK_NOTE_HEADER,
        origin,
        f"{pack['competition']} lot={pack['lot'] or '-'} for={pack['for_bidder'] or '-'}",
        f"checkpoint {first[1]} {first[2]}",
    ]
    for section in pack["sections"]:
        for fact in section["facts"]:
            lines.append(f"{section['id']}/{fact['id']} {fact_digest(fact)}")
    for i, item in enumerate(pack["recomputations"]):
        lines.append(f"recomputation/{i} {fact_digest(item)}")
    lines.append(f"standstill {fact_digest(pack['standstill_days'])}")
    return "\n".join(lines) + "\n"


def _covering(log: AuditLog, checkpoints: Checkpoints, cited: list[int], *, signer: NoteSigner | None, origin: str) -> StoredCheckpoint:
    """The latest signed checkpoint, signing one first (if we may) when it does not cover every cited event."""
    last = max(cited)
    leaf = log.leaf_index_of(last)
    # A cited event not yet in the log is covered only by a checkpoint signed after catching up.
    covering = checkpoints.covering(leaf if leaf is not None else 2**62, signer, origin=origin)
    if covering is None:
        latest = checkpoints.latest()
        covered = f"the latest covers the first {latest.tree_size} events" if latest else "none is signed yet"
        raise NotYetProvable(f"no signed checkpoint covers the event at position {last} yet ({covered})")
    return covering


def _pick(events: dict[int, _Stored], *names: str) -> list[_Stored]:
    return [e for _, e in sorted(events.items()) if e.name in names]


def opened_regime(events: dict[int, _Stored]) -> str | None:
    opened = _pick(events, "Opened")
    return opened[0].json.get("standstill_regime") if opened else None


def _gather(pack: _Pack, events: dict[int, _Stored], lots: list[str], c: Competition) -> None:
    (opened,) = _pick(events, "Opened")
    o = opened.nid
    pack.section("subject", "Subject, value, lots, procedure and regime")
    pack.fact(
        "{reference}: {title}, run by {authority} under the {procedure} procedure; standstill regime {regime}.",
        {"reference": (o, ["reference"]), "title": (o, ["title"]), "authority": (o, ["authority"]),
         "procedure": (o, ["procedure"]), "regime": (o, ["standstill_regime"])},
    )
    for i, lt in enumerate(opened.json["lots"]):
        if lt["id"] in lots:
            pack.fact(
                "Lot {lot}: {name}; value cap (pence) {cap}; places {places}.",
                {"lot": (o, ["lots", i, "id"]), "name": (o, ["lots", i, "name"]),
                 "cap": (o, ["lots", i, "value_cap_pence"]), "places": (o, ["lots", i, "places"])},
            )
    pack.section("timetable", "The timetable as it happened")
    pack.fact(
        "Opened on {opened}; clarification deadline {clarifications}; tender deadline {tenders}.",
        {"opened": (o, ["meta", "recorded_at"]), "clarifications": (o, ["clarification_deadline"]),
         "tenders": (o, ["tender_deadline"])},
    )
    for e in _pick(events, "TendersOpened", "OutcomeDecided", "OutcomeLettersIssued", "AwardConcluded", "Cancelled"):
        pack.fact("{step} on {when}.", {"when": (e.nid, ["meta", "recorded_at"]), "step": (e.nid, ["meta", "command"])})

    pack.section("criteria", "Published criteria and weights (frozen at the tender deadline)")
    for e in _pick(events, "CriteriaPublished"):
        pack.fact(
            "Criteria version {version} published on {when}, frozen at the tender deadline {deadline}; quality threshold {threshold}.",
            {"version": (e.nid, ["version"]), "when": (e.nid, ["meta", "recorded_at"]), "deadline": (o, ["tender_deadline"]),
             "threshold": (e.nid, ["quality_threshold"])},
        )
        for i, _ in enumerate(e.json["criteria"]):
            path = ["criteria", i]
            pack.fact(
                "{id} {title} ({panel} panel): weight {weight}, scored 0 to {max_score}, pass mark {pass_mark}.",
                {k: (e.nid, [*path, k]) for k in ("id", "title", "panel", "weight", "max_score", "pass_mark")},
            )
        for key in sorted(e.json["financial_thresholds"]):
            pack.fact(f"Financial threshold {key}: {{value}}.", {"value": (e.nid, ["financial_thresholds", key])})

    pack.section("documents", "Documents (with their SHA-256) and notices")
    for e in _pick(events, "DocumentPublished"):
        pack.fact(
            "{document} revision {revision}, {title}: SHA-256 {sha256}, {size} bytes, published {when}.",
            {"document": (e.nid, ["document"]), "revision": (e.nid, ["revision"]), "title": (e.nid, ["title"]),
             "sha256": (e.nid, ["sha256"]), "size": (e.nid, ["size_bytes"]), "when": (e.nid, ["meta", "recorded_at"])},
        )
    for e in _pick(events, "NoticePublished"):
        if e.json.get("notice_code"):
            pack.fact(
                "{notice_type} {notice_reference} ({notice_code} on Find a Tender) published on {published_on}.",
                {k: (e.nid, [k]) for k in ("notice_type", "notice_reference", "notice_code", "published_on")},
            )
        else:
            pack.fact(
                "{notice_type} {notice_reference} published on {published_on}.",
                {k: (e.nid, [k]) for k in ("notice_type", "notice_reference", "published_on")},
            )

    pack.section("clarifications", "Clarifications (answered to all, the asker anonymised) and evaluation clarifications")
    asked = {e.json["clarification"]: e for e in _pick(events, "ClarificationAsked")}
    for e in _pick(events, "ClarificationAnswered"):
        q = asked.get(e.json["clarification"])
        pack.fact(
            "{clarification}, answered to {published_to} on {when}: \u201c{question}\u201d \u2014 \u201c{answer}\u201d",
            {"clarification": (e.nid, ["clarification"]), "published_to": (e.nid, ["published_to"]),
             "when": (e.nid, ["meta", "recorded_at"]), "question": (e.nid, ["published_question"]), "answer": (e.nid, ["answer"])},
            # A bidder's pack cannot carry the question as asked: its record names the asker.
            cites=(q.nid,) if q is not None and not pack.for_bidder else (),
        )
        if q is not None:
            pack.fact(
                "{clarification} was asked by {asker} on {when} (anonymised in the answer).",
                {"clarification": (q.nid, ["clarification"]), "asker": (q.nid, ["asked_by"]), "when": (q.nid, ["meta", "recorded_at"])},
                about={q.json["asked_by"]}, kind="working",
            )
    issued = {e.json["clarification"]: e for e in _pick(events, "EvaluationClarificationIssued")}
    for e in issued.values():
        pack.fact(
            "Evaluation clarification {clarification} to {bidder}: \u201c{question}\u201d",
            {k: (e.nid, [k]) for k in ("clarification", "bidder", "question")}, about={e.json["bidder"]}, kind="own",
        )
    for e in _pick(events, "EvaluationClarificationAnswered"):
        bidder = issued[e.json["clarification"]].json["bidder"] if e.json["clarification"] in issued else ""
        pack.fact("{clarification} answered on {when}: \u201c{response}\u201d",
                  {"clarification": (e.nid, ["clarification"]), "when": (e.nid, ["meta", "recorded_at"]), "response": (e.nid, ["response"])},
                  about={bidder}, kind="own")

    pack.section("tenders", "Tenders received (after the opening)")
    for e in _pick(events, "TenderSubmitted", "TenderWithdrawn"):
        if e.name == "TenderSubmitted":
            pack.fact(
                "{bidder} tendered (submission {submission}) on {when} for lots {lots}: content SHA-256 {sha256}.",
                {"bidder": (e.nid, ["bidder"]), "submission": (e.nid, ["submission"]), "when": (e.nid, ["meta", "recorded_at"]),
                 "lots": (e.nid, ["lots"]), "sha256": (e.nid, ["content_sha256"])},
                about={e.json["bidder"]}, kind="own",
            )
        else:
            pack.fact("{bidder} withdrew its tender on {when}.", {"bidder": (e.nid, ["bidder"]), "when": (e.nid, ["meta", "recorded_at"])},
                      about={e.json["bidder"]}, kind="own")
    for e in _pick(events, "TendersOpened"):
        pack.fact("Tenders opened on {when}: {bidders}.", {"when": (e.nid, ["meta", "recorded_at"]), "bidders": (e.nid, ["bidders"])},
                  kind="working")

    pack.section("panels", "Panels: appointments, training, conflict-of-interest declarations and the measure taken (PCR 2015 reg 24 and 84)")
    for e in _pick(events, "EvaluatorAppointed", "EvaluatorTrained", "ConflictsDeclared"):
        if e.name == "EvaluatorAppointed":
            pack.fact(
                "{evaluator} ({name}) of {org} appointed to the {panel} panel on {when}.",
                {"evaluator": (e.nid, ["evaluator"]), "org": (e.nid, ["evaluator_org"]), "panel": (e.nid, ["panel"]),
                 "when": (e.nid, ["meta", "recorded_at"])},
                personal={"name": (e.nid, ["name"])} if e.json.get("name") else None, kind="working",
            )
        elif e.name == "EvaluatorTrained":
            pack.fact("{evaluator} trained, recorded {when}.", {"evaluator": (e.nid, ["evaluator"]), "when": (e.nid, ["meta", "recorded_at"])},
                      kind="working")
        else:
            for i, d in enumerate(e.json["declarations"]):
                measure = ("excluded from evaluating this bidder (reg 24)" if d["conflicted"] else "no conflict: may evaluate")
                pack.fact(
                    "{evaluator} declared for {bidder}: conflicted {conflicted} ({note}); measure: " + measure + ".",
                    {"evaluator": (e.nid, ["evaluator"]), "bidder": (e.nid, ["declarations", i, "bidder"]),
                     "conflicted": (e.nid, ["declarations", i, "conflicted"]), "note": (e.nid, ["declarations", i, "note"])},
                    about={d["bidder"]}, kind="working",
                )

    pack.section("compliance", "Compliance checks and exclusions, with reasons")
    for e in _pick(events, "ComplianceChecked"):
        pack.fact(
            "{bidder}: {check} passed {passed} ({note}), checked by {checked_by}.",
            {k: (e.nid, [k]) for k in ("bidder", "check", "passed", "note", "checked_by")}, about={e.json["bidder"]}, kind="working",
        )

    pack.section("financial", "Financial assessments, ratios against the published thresholds, guarantees")
    thresholds = _pick(events, "CriteriaPublished")[-1]
    published = thresholds.json["financial_thresholds"]
    for e in _pick(events, "FinancesAssessed"):
        claims = {"bidder": (e.nid, ["bidder"]), "credit": (e.nid, ["credit_score"]), "result": (e.nid, ["result"]),
                  "failures": (e.nid, ["failures"])}
        statement = "{bidder}: credit score {credit}"
        if "min_credit_score" in published:
            claims["min_credit"] = (thresholds.nid, ["financial_thresholds", "min_credit_score"])
            statement += " (minimum {min_credit})"
        for ratio, (comparison, key) in FINANCIAL_RATIOS.items():
            claims[ratio] = (e.nid, ["ratios", ratio])
            statement += f"; {ratio.replace('_', ' ')} {{{ratio}}}"
            if key in published:
                claims[key] = (thresholds.nid, ["financial_thresholds", key])
                statement += f" ({'minimum' if comparison == '>=' else 'maximum'} {{{key}}})"
        pack.fact(statement + ": {result}; failures {failures}.", claims, about={e.json["bidder"]}, kind="working")
    for e in _pick(events, "GuaranteeOffered", "GuaranteeExecuted"):
        if e.name == "GuaranteeOffered":
            pack.fact("{bidder}: parent company guarantee offered by {guarantor} (company {number}).",
                      {"bidder": (e.nid, ["bidder"]), "guarantor": (e.nid, ["guarantor"]), "number": (e.nid, ["guarantor_company_number"])},
                      about={e.json["bidder"]}, kind="working")
        else:
            pack.fact("{bidder}: guarantee executed on {when}, document SHA-256 {sha256}.",
                      {"bidder": (e.nid, ["bidder"]), "when": (e.nid, ["meta", "recorded_at"]), "sha256": (e.nid, ["document_sha256"])},
                      about={e.json["bidder"]}, kind="working")

    pack.section("scores", "Every individual score with its justification, and every moderation beside the originals")
    for e in _pick(events, "ScoreRecorded", "ScoreModerated"):
        if e.name == "ScoreRecorded":
            pack.fact(
                "{evaluator} scored {bidder} {score} on {criterion} (revision {revision}): \u201c{justification}\u201d",
                {k: (e.nid, [k]) for k in ("evaluator", "bidder", "score", "criterion", "revision", "justification")},
                about={e.json["bidder"]}, kind="working",
            )
        else:
            pack.fact(
                "{criterion} for {bidder} moderated to {score} by {moderator}, the individual scores being {individual}: \u201c{rationale}\u201d",
                {"criterion": (e.nid, ["criterion"]), "bidder": (e.nid, ["bidder"]), "score": (e.nid, ["score"]),
                 "moderator": (e.nid, ["moderator"]), "individual": (e.nid, ["individual_scores"]), "rationale": (e.nid, ["rationale"])},
                about={e.json["bidder"]}, kind="working",
            )

    pack.section("outcome", "The outcome decided (recomputed from the scores below: see recomputations)")
    for e in _pick(events, "OutcomeDecided"):
        for bidder in sorted(e.json["bidders"]):
            path = ["bidders", bidder]
            pack.fact(
                bidder + ": compliant {compliant}, passed {passed}, weighted score {weighted}, scores {scores}, financial {financial}; reasons {reasons}.",
                {"compliant": (e.nid, [*path, "compliant"]), "passed": (e.nid, [*path, "passed"]),
                 "weighted": (e.nid, [*path, "weighted_score"]), "scores": (e.nid, [*path, "scores"]),
                 "financial": (e.nid, [*path, "financial"]), "reasons": (e.nid, [*path, "reasons"])},
                about={bidder}, kind="working",
            )
        for lt in lots:
            pack.fact(
                "Lot {lot}: successful {successful} (the names of the successful tenderers, reg 84); ranks {ranks}; unsuccessful, with reasons, {unsuccessful}.",
                {"successful": (e.nid, ["lots", lt, "successful"]), "ranks": (e.nid, ["lots", lt, "ranks"]),
                 "unsuccessful": (e.nid, ["lots", lt, "unsuccessful"]), "lot": (o, ["lots", [x["id"] for x in opened.json["lots"]].index(lt), "id"])},
                kind="working",
            )

    pack.section("letters", "The letters as sent (reg 86), the standstill and its calendar")
    start = _standstill_start(events)
    for e in _pick(events, "OutcomeLettersIssued"):
        if start is not None and start[1] == "notice":
            statement = ("Letters sent on {sent}; counted from them the standstill's last day would be {last_day}, "
                         "but it counts from the notice below.")
        else:
            statement = "Letters sent on {sent}; the standstill's last day is {last_day}, ending at {ends_at} (London time; day by day in standstill_days)."
        pack.fact(
            statement,
            {"sent": (e.nid, ["meta", "recorded_at"]), "last_day": (e.nid, ["standstill_last_day"]), "ends_at": (e.nid, ["standstill_ends_at"])},
        )
        if start is not None and start[1] == "notice" and start[0].nid > e.nid:
            n = start[0]
            rule = "Procurement Act 2023 s.51" if n.json.get("notice_code") else "Provider Selection Regime reg 12"
            pack.fact(
                "The {notice_type} {notice_reference}, published on {published_on}, begins the standstill (" + rule + "): "
                "its last day is {last_day}, ending at {ends_at} (London time; day by day in standstill_days).",
                {"notice_type": (n.nid, ["notice_type"]), "notice_reference": (n.nid, ["notice_reference"]),
                 "published_on": (n.nid, ["published_on"]), "last_day": (n.nid, ["standstill_last_day"]),
                 "ends_at": (n.nid, ["standstill_ends_at"])},
            )
        for i, letter in enumerate(e.json["letters"]):
            base = ["letters", i]
            pack.fact(
                "Letter to {bidder}: weighted score {weighted}, scores {scores}.",
                {"bidder": (e.nid, [*base, "bidder"]), "weighted": (e.nid, [*base, "weighted_score"]), "scores": (e.nid, [*base, "scores"])},
                about={letter["bidder"]}, kind="own",
            )
            for lt, result in sorted(letter.get("lots", {}).items()):
                if lt not in lots:
                    continue
                lp = [*base, "lots", lt]
                claims = {"bidder": (e.nid, [*base, "bidder"]), "result": (e.nid, [*lp, "result"]), "rank": (e.nid, [*lp, "rank"]),
                          "reasons": (e.nid, [*lp, "reasons"]), "successful": (e.nid, [*lp, "successful_bidders"])}
                statement = ("Letter to {bidder}, lot " + lt + ": {result}, rank {rank}, reasons {reasons}; "
                             "the successful tenderers and their scores: {successful}")
                if "relative_advantages" in result:
                    claims["advantages"] = (e.nid, [*lp, "relative_advantages"])
                    statement += "; relative advantages of the successful tenders: \u201c{advantages}\u201d"
                pack.fact(statement + ".", claims, about={letter["bidder"]}, kind="own")

    pack.section("challenges", "Challenges and their resolution")
    received = {e.json["challenge"]: e for e in _pick(events, "ChallengeReceived")}
    for e in received.values():
        pack.fact("{challenge}: {kind} from {bidder} on {when}: \u201c{grounds}\u201d",
                  {"challenge": (e.nid, ["challenge"]), "kind": (e.nid, ["kind"]), "bidder": (e.nid, ["bidder"]),
                   "when": (e.nid, ["meta", "recorded_at"]), "grounds": (e.nid, ["grounds"])}, about={e.json["bidder"]}, kind="own")
    for e in _pick(events, "ChallengeResolved"):
        first = received.get(e.json["challenge"])
        pack.fact("{challenge} resolved on {when}: {outcome}: \u201c{decision}\u201d",
                  {"challenge": (e.nid, ["challenge"]), "when": (e.nid, ["meta", "recorded_at"]), "outcome": (e.nid, ["outcome"]),
                   "decision": (e.nid, ["decision"])}, about={first.json["bidder"]} if first else set(), kind="own")

    pack.section("award", "The award")
    for e in _pick(events, "AwardConcluded"):
        for lt in lots:
            if lt in e.json["awards"]:
                pack.fact("Lot " + lt + " awarded on {when} to {winners}.",
                          {"when": (e.nid, ["meta", "recorded_at"]), "winners": (e.nid, ["awards", lt])})
    for e in _pick(events, "Cancelled"):
        pack.fact("Cancelled on {when}: {why}.", {"when": (e.nid, ["meta", "recorded_at"]), "why": (e.nid, ["meta", "reason"])})


def _recomputations(c: Competition, events: dict[int, _Stored], lots: list[str], entrants: set[str]) -> list[dict[str, Any]]:
    """Per bidder scored, the events the verifier recomputes its agreed and weighted scores from."""
    decided = _pick(events, "OutcomeDecided")[-1]
    criteria = _pick(events, "CriteriaPublished")[-1]
    latest: dict[tuple[str, str, str], int] = {}
    for e in _pick(events, "ScoreRecorded"):
        latest[(e.json["evaluator"], e.json["bidder"], e.json["criterion"])] = e.nid
    moderated = {(e.json["bidder"], e.json["criterion"]): e.nid for e in _pick(events, "ScoreModerated")}
    out = []
    for bidder, result in sorted(decided.json["bidders"].items()):
        if result["weighted_score"] is None or bidder not in entrants:
            continue
        scores, moderations = [], []
        for crit in c.criteria:
            if (bidder, crit) in moderated:
                moderations.append(moderated[(bidder, crit)])
            else:
                scores += [latest[(ev, bidder, crit)] for ev in c.counted_scores(bidder, crit)]
        out.append({
            "bidder": bidder,
            "criteria_event": criteria.nid,
            "score_events": sorted(scores),
            "moderation_events": sorted(moderations),
            "decided_event": decided.nid,
            "moderation_spread": c.moderation_spread,
            "spread_event": _pick(events, "Opened")[0].nid,
        })
    return out


def _standstill_start(events: dict[int, _Stored]) -> tuple[_Stored, str, date, date] | None:
    """What the standstill counts from, as the competition counts it: the letters, or (Procurement
    Act 2023 s.51, PSR reg 12) the first notice after them that begins it, a later one only where
    it ends the standstill later (a corrected notice never shortens it). (event, "letters" or
    "notice", the day it begins with, its last day)."""
    letters = _pick(events, "OutcomeLettersIssued")
    if not letters:
        return None
    e = letters[-1]
    sent = datetime.fromisoformat(field_at(e.json, ["meta", "recorded_at"])).astimezone(LONDON).date()
    start: tuple[_Stored, str, date, date] = (e, "letters", sent, date.fromisoformat(e.json["standstill_last_day"]))
    for n in _pick(events, "NoticePublished"):
        if n.nid < e.nid or not n.json.get("standstill_last_day"):
            continue
        last = date.fromisoformat(n.json["standstill_last_day"])
        if start[1] == "letters" or last > start[3]:
            start = (n, "notice", date.fromisoformat(n.json["published_on"]), last)
    return start


def _standstill_days(events: dict[int, _Stored], regime: str | None) -> dict[str, Any] | None:
    """The standstill day by day from the day it counts from to its last day, with the calendar it counts on."""
    start = _standstill_start(events)
    if start is None:
        return None
    e, counted_from, begins, last = start
    letters = _pick(events, "OutcomeLettersIssued")[-1]
    sent = datetime.fromisoformat(field_at(letters.json, ["meta", "recorded_at"])).astimezone(LONDON).date()
    # "Beginning with the day" the award notice is published (PA 2023 s.51): that day counts.
    inclusive = counted_from == "notice" and regime == "pa2023"
    days = []
    day = begins
    while day <= last:
        try:
            working = is_working_day(day)
        except CalendarNotCovered:
            working = None
        within = day >= begins if inclusive else day > begins
        # The Procurement Act and the PSR count working days; PCR 2015's ten days are calendar days.
        days.append({"day": day.isoformat(), "weekday": day.strftime("%A"), "working_day": working,
                     "counts": within and (working is not False if regime in ("pa2023", "psr2024") else True)})
        day += timedelta(days=1)
    return {
        "event": e.nid,
        "calendar": "England and Wales working days (weekends and the bank holidays the ledger ships), London time",
        "counted_from": counted_from,
        "begins_on": begins.isoformat(),
        "letters_sent_on": sent.isoformat(),
        "last_day": last.isoformat(),
        "days": days,
    }
