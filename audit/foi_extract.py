"""The FOI extract: every record about a competition, contract, provider or person over a period,
redacted by the FOI redaction policy, with its redaction schedule and a manifest of proofs.

    extract(ledger, reader, about="competition:AQP-CH-2026", since=..., until=...) -> Extract
    Extract.write(DIR): records.json, records.csv, schedule.json, schedule.csv, manifest.json

**Which records.** The event index (`projections.event_index`, caught up first) lists every
event concerning a subject: a competition's own events and those naming it; a contract's; a
provider's (as a CQC registered provider: itself, its homes and their returns and visits; as an
organisation: its tenders, contracts and what names it); a person's (as the subject of personal
data, an evaluator named, the record of their erasure). They are released in notification order,
within the period (by the time each was recorded). Only auditors, FOI officers and admins may
extract (`domain.access.may_extract`); to anybody else, and for a record the ledger does not
hold, the answer is the same "There is no competition AQP-CH-2026." A sealed tender before the
opening is never released (and the index does not hold it yet either); what else the events
feed withholds from an FOI officer is released through the policy (`access.released_in_extract`).

**What of each record.** A released record is its position (notification id), type, record,
version, when it was recorded (and its business time), the command, the reason, who acted
(role, organisation, and the account only where the policy releases it) and its fields as
released. The policy (`domain.foi_redaction.POLICY`, data) withholds, whoever extracts: every
value stored as personal data (s.40(2)), evaluators' identities unless a person released them
(`release_evaluators`, recorded in the manifest with who decided and why), who asked a
clarification, concerns, bidders' accounts, and unsuccessful bidders' prices and tender contents
(s.43(2); unsuccessful: won no lot in the outcome). A withheld value reads "[withheld]" (personal
data already erased reads "[erased]", and is still scheduled), and every withholding has one
entry in the schedule: where (position, JSON Pointer), what kind, which exemption, why.

**The manifest, and what a recipient can check.** For every released record: the SHA-256
Merkle leaf hash of the stored event (RFC 9162, over the record exactly as persisted:
`audit.verifier.leaf`), its inclusion proof against one signed checkpoint (signed on demand
if none covers the records yet, as `aqp audit prove` does), and which fields were released
verbatim and which withheld. A recipient with our public key checks that signature and every
proof (`python -m audit.verifier extract DIR --key KEYS`): the released records' events are in
the log we signed, unchanged. The leaf hashes the whole stored event, withheld fields included,
so the recipient cannot recompute it from what was released; whoever holds the full event (the
FOI officer with an auditor's proof bundle of it, or the ICO on appeal) recomputes the leaf
from the stored record and compares the released fields with it. Per-field salted commitments
would let a holder prove one field at a time without the whole event; not built (see the issue).
Correlation and command ids are the request's transport, not the record's content, and are not
part of a released record.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable
from uuid import UUID

from audit.checkpoints import DEFAULT_ORIGIN, Checkpoints, StoredCheckpoint
from audit.log import AuditLog
from audit.signing import NoteSigner, sign_note
from audit.verifier.digest import digest
from audit.verifier.leaf import LEAF_FORMAT, leaf_bytes
from audit.verifier.merkle import leaf_hash
from domain import access
from domain.contracts.contract import Contract
from domain.event_view import LedgerFacts, aggregate_kind, event_type, withheld_because
from domain.foi_redaction import POLICY, POLICY_VERSION, Rule, described
from domain.kernel.errors import ValidationFailed, no_such
from domain.kernel.metadata import Actor
from domain.kernel.personal import ERASED, PersonalData
from domain.procurement.competition import Competition
from domain.providers.views import WITHHELD
from projections import follow
from projections.event_index import EventIndex

EXTRACT_NOTE_HEADER = "aqp-foi-extract-v1"
EXTRACT_FORMAT = "aqp-foi-extract-v1"
#: what may be asked about -> the event index's subject kinds it is found under
ABOUT = {
    "competition": ("competition",),
    "contract": ("contract",),
    "provider": ("provider", "organisation"),
    "subject": ("person",),
}
FILES = ("records.json", "records.csv", "schedule.json", "schedule.csv", "manifest.json")
_ENVELOPE = {"originator_id", "originator_version", "timestamp", "meta", "originator_topic"}


class ExtractError(Exception):
    """The extract cannot be proven (no checkpoint covers its records and no key to sign one)."""


@dataclass(frozen=True)
class EvaluatorRelease:
    """A person's decision to release evaluators' identities in this extract."""

    decided_by: Actor
    why: str


@dataclass
class Extract:
    about: str
    records: list[dict[str, Any]]
    schedule: list[dict[str, Any]]
    manifest: dict[str, Any]

    def files(self) -> dict[str, str]:
        """Each output file's text, by name (the manifest last: it states the others' hashes)."""
        texts = {
            "records.json": _json(self.records),
            "records.csv": _csv(("position", "type", "when", "field", "value"), _record_rows(self.records)),
            "schedule.json": _json(self.schedule),
            "schedule.csv": _csv(
                ("position", "type", "path", "kind", "exemption", "rule", "why", "erased"),
                ([e["position"], e["type"], e["path"], e["kind"], e["exemption"], e["rule"], e["why"], e["erased"]]
                 for e in self.schedule),
            ),
        }
        manifest = {**self.manifest, "files": {n: hashlib.sha256(t.encode("utf-8")).hexdigest() for n, t in texts.items()}}
        texts["manifest.json"] = _json(manifest)
        return texts

    def write(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in self.files().items():
            path = directory / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
        return written


def extract(
    ledger: Any,
    reader: Actor,
    *,
    about: str,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    policy: tuple[Rule, ...] = POLICY,
    release_evaluators: EvaluatorRelease | None = None,
    request: str | None = None,
    signer: NoteSigner | None = None,
    origin: str = DEFAULT_ORIGIN,
    now: datetime | None = None,
) -> Extract:
    """Every record about `about` ("competition:REF", "contract:REF", "provider:ID", "subject:ID")
    recorded in [since, until] (dates: whole days, UTC), as `reader` may release it.

    Catches the event index and the Merkle log up, and signs a checkpoint with `signer` if none
    covers the records yet (an operator's command, like `aqp audit prove`)."""
    kind, reference = _about(about)
    start, end = _period(since, until)
    facts = LedgerFacts(ledger)
    positions = _positions(ledger, kind, reference)
    if not access.may_extract(reader) or not positions or not _there(ledger, facts, reader, kind, reference):
        raise no_such(kind, reference)
    if release_evaluators is not None and not release_evaluators.why.strip():
        raise ValidationFailed("Releasing evaluators' identities needs a reason (why).", code="reason_required", field="why")
    evaluators_released = access.discloses_evaluators(reader, released=release_evaluators is not None)

    outcomes = _Outcomes(ledger)
    records: list[dict[str, Any]] = []
    schedule: list[dict[str, Any]] = []
    proofs_of: list[dict[str, Any]] = []
    for position in positions:
        event = _event(ledger, position)
        if (start and event.timestamp < start) or (end and event.timestamp >= end):
            continue
        if not access.released_in_extract(withheld_because(event, reader, facts)):
            continue
        record, personal = _record(position, event, positions[position])
        decided = _decide(policy, event, record, personal, outcomes, evaluators_released)
        entries = _redact(record, decided, personal)
        records.append(record)
        schedule += entries
        proofs_of.append({"position": position, "type": record["type"], **_verbatim(record, entries)})

    log = AuditLog(ledger)
    log.catch_up()
    checkpoint = _checkpoint(log, [p["position"] for p in proofs_of], signer, origin)
    manifest = {
        "format": EXTRACT_FORMAT,
        "leaf_format": LEAF_FORMAT,
        "about": f"{kind}:{reference}",
        "period": {"since": start.isoformat() if start else None, "until": end.isoformat() if end else None},
        "request": request,
        "extracted_by": {"role": reader.role, "org": reader.org, "id": reader.id},
        "extracted_at": (now or datetime.now(timezone.utc)).isoformat(),
        "policy": {"version": POLICY_VERSION, "rules": described(policy)},
        "evaluators": {
            "released": evaluators_released,
            "decided_by": None if release_evaluators is None else _actor(release_evaluators.decided_by),
            "why": None if release_evaluators is None else release_evaluators.why,
        },
        "counts": {"records": len(records), "withheld": len(schedule)},
        "checkpoint": None if checkpoint is None else checkpoint.note,
        "checkpoint_seq": None if checkpoint is None else checkpoint.seq,
        "key_id": None if checkpoint is None else checkpoint.key_id,
        "tree_size": None if checkpoint is None else checkpoint.tree_size,
        "records": [_proof(log, checkpoint, p) for p in proofs_of] if checkpoint else [],
        "signature": None,
    }
    if signer is not None and checkpoint is not None:
        manifest["signature"] = sign_note(extract_note_text(manifest, records, schedule, origin), [signer])
    return Extract(about=f"{kind}:{reference}", records=records, schedule=schedule, manifest=manifest)


def extract_note_text(manifest: dict[str, Any], records: list[dict[str, Any]], schedule: list[dict[str, Any]], origin: str) -> str:
    """What the ledger signs of an extract: what it is about, its checkpoint, how many records and
    withholdings, each released record's leaf and the digest of the record as released, and the
    schedule's digest. So a record rewritten, dropped or added, or a schedule changed, fails the
    verifier even with every file hash in the (unsigned) manifest made to match. Its first line is
    never a tree size's, so the note can never pass for a checkpoint."""
    first = manifest["checkpoint"].split("\n")
    leaves = {e["position"]: e["leaf_hash"] for e in manifest["records"]}
    lines = [
        EXTRACT_NOTE_HEADER,
        origin,
        f"about {manifest['about']} request={manifest['request'] or '-'}",
        f"checkpoint {first[1]} {first[2]}",
        f"counts records={len(records)} withheld={len(schedule)}",
        *(f"record {r['position']} {leaves[r['position']]} {digest(r)}" for r in records),
        f"schedule {digest(schedule)}",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- finding the records


def _about(text: str) -> tuple[str, str]:
    kind, _, reference = text.partition(":")
    if kind not in ABOUT or not reference.strip():
        raise ValidationFailed(
            f"about must be KIND:REFERENCE with KIND one of {', '.join(ABOUT)} (e.g. competition:AQP-CH-2026), not {text!r}.",
            code="invalid_about",
            field="about",
        )
    return kind, reference.strip()


def _period(since: date | datetime | None, until: date | datetime | None) -> tuple[datetime | None, datetime | None]:
    """[start, end): a date's whole day in UTC; a time as given (until inclusive of it)."""

    def instant(value: date | datetime, *, after: bool) -> datetime:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValidationFailed("A time in the period needs a time zone.", code="naive_time", field="since" if not after else "until")
            return value + timedelta(microseconds=1) if after else value
        day = value + timedelta(days=1) if after else value
        return datetime.combine(day, time(0), tzinfo=timezone.utc)

    start = None if since is None else instant(since, after=False)
    end = None if until is None else instant(until, after=True)
    if start and end and end <= start:
        raise ValidationFailed("The period ends before it starts.", code="period_reversed", field="until")
    return start, end


def _positions(ledger: Any, kind: str, reference: str) -> dict[int, str]:
    """The events concerning the subject, from the event index (caught up): notification id -> the
    reference of the record each belongs to, in notification order."""
    view = follow.live_view(ledger, EventIndex)
    if (view.max_tracking_id(ledger.name) or 0) < (ledger.max_position() or 0):
        follow.catch_up(ledger, EventIndex(view))
    rows = view.select(
        "event_subjects", where={"subject": reference, "subject_kind": ("in", list(ABOUT[kind]))},
        columns=("notification_id", "reference"),
    )
    return {int(r["notification_id"]): r["reference"] for r in sorted(rows, key=lambda r: int(r["notification_id"]))}


def _there(ledger: Any, facts: LedgerFacts, reader: Actor, kind: str, reference: str) -> bool:
    """Whether the record asked about is there for the reader (a competition or contract: the record itself)."""
    if kind == "competition":
        return ledger.exists(Competition, reference) and facts.sees_competition(Competition.id_for(reference), reader)
    if kind == "contract":
        return ledger.exists(Contract, reference)
    return True  # a provider or a person is there when the index has events concerning them


def _event(ledger: Any, position: int) -> Any:
    (notification,) = ledger.recorder.select_notifications(start=position, limit=1)
    return ledger.mapper.to_domain_event(notification)


# ---------------------------------------------------------------------------- one record, redacted


def _pointer(parts: Iterable[str]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]


def _plain(value: Any, path: tuple[str, ...], personal: dict[str, bool]) -> Any:
    """JSON-ready data; each personal data value's pointer into `personal` (True: erased)."""
    if isinstance(value, PersonalData):
        personal[_pointer(path)] = value.value is None
        return value.shown()
    if isinstance(value, dict):
        return {str(k): _plain(v, (*path, str(k)), personal) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, (*path, str(i)), personal) for i, v in enumerate(value)]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    return value


def _record(position: int, event: Any, reference: str) -> tuple[dict[str, Any], dict[str, bool]]:
    meta = getattr(event, "meta", None) or {}
    actor = meta.get("actor") or {}
    personal: dict[str, bool] = {}
    fields = _plain({k: v for k, v in vars(event).items() if k not in _ENVELOPE}, ("fields",), personal)
    record = {
        "position": position,
        "type": event_type(event),
        "record": {"kind": aggregate_kind(event), "reference": reference},
        "version": event.originator_version,
        "when": event.timestamp.isoformat(),
        "business_time": meta.get("business_time"),
        "command": meta.get("command"),
        "reason": meta.get("reason"),
        "who": {"role": actor.get("role"), "org": actor.get("org"), "id": actor.get("id")},
        "fields": fields,
    }
    return record, personal




class _Outcomes:
    """Who won which lots of each competition, from its outcome as it stands now (loaded once each)."""

    def __init__(self, ledger: Any) -> None:
        self._ledger = ledger
        self._won: dict[UUID, dict[str, set[str]]] = {}

    def lots_won(self, competition_id: UUID) -> dict[str, set[str]]:
        """bidder -> the lots it won (a bidder absent won nothing; no outcome: nobody won anything)."""
        if competition_id not in self._won:
            outcome = self._ledger.repository.get(competition_id).outcome or {"lots": {}}
            won: dict[str, set[str]] = {}
            for lot, result in outcome["lots"].items():
                for bidder in result["successful"]:
                    won.setdefault(bidder, set()).add(lot)
            self._won[competition_id] = won
        return self._won[competition_id]


@dataclass
class _Context:
    won: dict[str, set[str]]
    bidder: str | None
    evaluators_released: bool
    person_acted: bool
    decided: dict[str, tuple[Rule, bool]] = field(default_factory=dict)

    def won_nothing(self, bidder: Any) -> bool:
        return isinstance(bidder, str) and not self.won.get(bidder)


def _decide(
    policy: tuple[Rule, ...], event: Any, record: dict[str, Any], personal: dict[str, bool], outcomes: _Outcomes,
    evaluators_released: bool,
) -> dict[str, tuple[Rule, bool]]:
    """pointer -> (the rule that decided it, withheld?), the first matching rule deciding each value."""
    who = record["who"]
    bidder = record["fields"].get("bidder")
    if not isinstance(bidder, str):
        bidder = who["org"] if who["role"] == "provider" else None
    won = outcomes.lots_won(event.originator_id) if isinstance(event, Competition.Event) else {}
    ctx = _Context(won=won, bidder=bidder, evaluators_released=evaluators_released, person_acted=who["role"] not in (None, "system"))
    for rule in policy:
        if rule.events and not isinstance(event, rule.events):
            continue
        if rule.when == "bidder_won_nothing" and not (isinstance(event, Competition.Event) and ctx.won_nothing(ctx.bidder)):
            continue
        if rule.when == "a_person_acted" and not ctx.person_acted:
            continue
        release = rule.unless == "evaluators_released" and ctx.evaluators_released
        found = list(personal) if rule.personal_data else [p for pattern in rule.paths for p in _expand(record, _parts(pattern), (), ctx)]
        for pointer in found:
            _settle(ctx.decided, pointer, rule, withheld=not release, value=_at(record, pointer))
    return ctx.decided


def _expand(node: Any, segments: list[str], path: tuple[str, ...], ctx: _Context) -> Iterable[str]:
    if not segments:
        yield _pointer(path)
        return
    segment, rest = segments[0], segments[1:]
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = [(str(i), v) for i, v in enumerate(node)]
    else:
        return
    for key, value in items:
        if segment == "*":
            hit = True
        elif segment == "{won_nothing}":
            hit = ctx.won_nothing(value.get("bidder") if isinstance(node, list) and isinstance(value, dict) else key)
        elif segment == "{lot_not_won}":
            hit = key not in ctx.won.get(ctx.bidder or "", set())
        else:
            hit = key == segment
        if hit:
            yield from _expand(value, rest, (*path, key), ctx)


def _at(record: dict[str, Any], pointer: str) -> Any:
    node: Any = record
    for part in _parts(pointer):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _within(inner: str, outer: str) -> bool:
    return inner == outer or inner.startswith(outer + "/")


def _settle(decided: dict[str, tuple[Rule, bool]], pointer: str, rule: Rule, *, withheld: bool, value: Any) -> None:
    """Decide one value unless it, or what holds it, is decided already; withholding a value
    takes in what an earlier rule decided inside it (one withholding, not one inside another)."""
    if value in (None, "", [], {}):
        return  # nothing to withhold
    if any(_within(pointer, done) for done in decided):
        return
    inside = [done for done in decided if _within(done, pointer)]
    if not withheld:
        if not inside:
            decided[pointer] = (rule, False)
        return
    for done in inside:
        del decided[done]
    decided[pointer] = (rule, True)


def _redact(record: dict[str, Any], decided: dict[str, tuple[Rule, bool]], personal: dict[str, bool]) -> list[dict[str, Any]]:
    """Replace each withheld value by its mark; the schedule's entries for this record, in pointer order."""
    entries = []
    for pointer, (rule, withheld) in sorted(decided.items()):
        if not withheld:
            continue
        erased = personal.get(pointer, False)
        *parents, last = _parts(pointer)
        node: Any = record
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        mark = ERASED if erased else WITHHELD
        if isinstance(node, list):
            node[int(last)] = mark
        else:
            node[last] = mark
        entries.append({
            "position": record["position"], "type": record["type"], "path": pointer, "kind": rule.kind,
            "exemption": rule.exemption, "rule": rule.name, "why": rule.why, "erased": erased,
        })
    return entries


def _verbatim(record: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Which of the record's fields (and who) are released exactly as the ledger holds them."""
    withheld = [e["path"] for e in entries]
    shown = [_pointer(("who", k)) for k in record["who"]] + [_pointer(("fields", k)) for k in record["fields"]]
    return {
        "released_verbatim": [p for p in shown if not any(_within(w, p) for w in withheld)],
        "withheld": withheld,
    }


# ---------------------------------------------------------------------------- proofs


def _checkpoint(log: AuditLog, positions: list[int], signer: NoteSigner | None, origin: str) -> StoredCheckpoint | None:
    if not positions:
        return None
    last = log.leaf_index_of(max(positions))
    if last is None:
        raise ExtractError(f"the event at position {max(positions)} is not in the Merkle log")
    checkpoint = Checkpoints(log).covering(last, signer, origin=origin)
    if checkpoint is None:
        raise ExtractError("no signed checkpoint covers these records yet and no signing key is available: run `aqp audit checkpoint`")
    return checkpoint


def _proof(log: AuditLog, checkpoint: StoredCheckpoint, entry: dict[str, Any]) -> dict[str, Any]:
    position = entry["position"]
    leaf_index = log.leaf_index_of(position)
    assert leaf_index is not None
    nid, oid, version, topic, state = next(log.store.stored_events(after=position - 1, batch=1, limit=1))
    return {
        **entry,
        "leaf_index": leaf_index,
        "leaf_hash": base64.b64encode(leaf_hash(leaf_bytes(nid, oid, version, topic, state))).decode("ascii"),
        "inclusion_proof": [base64.b64encode(h).decode("ascii") for h in log.inclusion_proof(leaf_index, checkpoint.tree_size)],
    }


# ---------------------------------------------------------------------------- files


def _actor(actor: Actor) -> dict[str, str]:
    return {"role": actor.role, "org": actor.org, "id": actor.id}


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _csv(header: tuple[str, ...], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _leaves(value: Any, path: tuple[str, ...]) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, str(i)))
    else:
        yield _pointer(path), value


def _record_rows(records: list[dict[str, Any]]) -> Iterable[list[Any]]:
    """One row per released value: who acted and every field, flattened to JSON Pointers."""
    for r in records:
        for pointer, value in _leaves({"who": r["who"], "fields": r["fields"]}, ()):
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            yield [r["position"], r["type"], r["when"], pointer, text]
