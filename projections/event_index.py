"""The event index: every stored event by who did it and by whom or what it concerns.

An auditor asks "what did this account do, and on whose behalf?"; an FOI officer or a data
protection request asks "which records concern this home, this provider, this person?".
Both are answered from these tables without reading the log; the event itself (and its
proofs) is then fetched by its notification id, which is also its leaf in the Merkle log.
The index follows every stored event, whatever its class (`topics = ()`).

`event_index` - one row per stored event (keyed by the aggregate's id and the event's
version, which are unique and never change):
  - `notification_id`: its position in the log (the Merkle leaf index + 1), ordering the rows;
  - `recorded_at`: the event's time (ISO 8601, UTC);
  - `kind`, `reference`: the record it belongs to, e.g. "location", "1-101";
  - `event`: the event's type, e.g. "VacanciesReported"; `version`: of that record;
  - `actor`, `actor_org`, `actor_role`: who did it (the command's principal);
  - `command`: the command's type, e.g. "vacancies.report";
  - `correlation_id`, `causation_id`: the request it belongs to and what caused it (a
    process's follow-up command carries the id of the event it reacted to).

`event_subjects` - one row per event and subject it concerns: `subject_kind`, `subject`,
`relation` (how it concerns it), `notification_id`, `recorded_at`, `kind`, `reference`,
`event` (repeated so a subject's history lists without a second query), and `named` (hidden:
1 when the event's content names the subject, 0 for its record and what that belongs to). Subjects:
  - the record itself, relation "record" (a person, for a data subject's erasure);
  - the records its record belongs to, fixed when it was created: a location's registered
    provider (moving with `ProviderChanged`), a contract's provider (moving with a novation),
    a return's, placement return's or quality visit's location and that location's provider,
    a visit's contract, a performance record's contract and its provider;
  - the references the event names: `bidder` and `asked_by` (an organisation), every bidder
    in an opening, declaration, outcome, letters or award, `provider`, `to_provider`,
    `from_provider` (an organisation on a contract, a registered provider on a location),
    `location`, `contract`, `competition`, `framework`, `template`, `evaluator_org`,
    `new_controller`, a framework's commissioners (organisations), and `evaluator`,
    `moderator`, `checked_by`, `reviewer` (people, by account id);
  - every person whose personal data the event holds (`PersonalData.subject`, an opaque id;
    never the name or any decrypted value), relation = the field holding it, e.g. "name".
Subject kinds: competition, contract, framework, location, provider (a CQC registered
provider id, e.g. "1-101"), organisation (an organisation's reference, e.g. a bidder
"aster-care-homes"), person, and the other records' kinds (return, quality_visit, ...).
For example `Location.ContactAdded` on 1-101 of provider 1-100 gives three rows:
(location, 1-101, record), (provider, 1-100, provider), (person, c-7, name).

What the events cannot say, the index cannot either: a bidder's answer to an evaluation
clarification does not name the bidder (find it by `actor_org`, or by the clarification's
issue), and a quality visit's visitors are roles, not people.

**Sealed tenders.** A tender submitted or withdrawn (`TenderSubmitted`, `TenderWithdrawn`) is
indexed only when the competition's tenders are opened (`TendersOpened`): until then its
rows are held back in the read model's own lookup `event_sealed`, and the competition's
`events` count and `last_recorded_at` do not move with it, so no table anybody reads says
who tendered, how many did, or when (the API serves these tables to every role). At the
opening the held rows are written as they would have been, with their own notification
ids and times. Example: aster tenders on 10 February and bramble on 12 February, the deadline
is 20 February; until the opening the index shows neither event and the competition's
record counts only its other events; after it, both rows appear with notification ids 3 and
4, between the rows already there. A competition cancelled before its opening never
unseals its tenders (unopened tenders go back unopened), so those events are never
indexed. (The log's notification ids have gaps where rows are held; a gap says that some
tender moved somewhere, not where or whose.)

**What each reader sees** is decided when the rows are read, by the one redaction of events
(`domain.event_view.withheld_events`, applied in SQL by the HTTP API's tables): on an event
whose content is withheld from the reader (the evaluation's working, to an FOI officer), the
row keeps its record, type and time while its actor and request ids read as null (filtered
and sorted as null, so neither a filter nor the order gives them away), and the subjects named
in its content (`named`: the evaluator, the bidder scored, a person's subject id) are absent;
the subjects it concerns as its record's (the competition) stay.

`event_records` - one row per record (aggregate): `kind`, `reference`, `events` (how many
indexed), `first_recorded_at`, `last_recorded_at`; it also keeps (hidden) the subjects every
event of the record concerns.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from domain.contracts.contract import Contract
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.personal import PersonalData
from domain.event_view import SEALED_UNTIL_OPENED
from domain.procurement.competition import Competition
from domain.providers.location import Location
from projections.handlers import handles
from projections.memo import id_text, utc
from projections.read_model import TableReadModel
from projections.tables import INTEGER, Column, Page, Table

EVENTS = Table(
    "event_index",
    (
        Column("notification_id", INTEGER),
        Column("recorded_at"),
        Column("kind"),
        Column("reference"),
        Column("event"),
        Column("version", INTEGER),
        Column("actor"),
        Column("actor_org"),
        Column("actor_role"),
        Column("command"),
        Column("correlation_id"),
        Column("causation_id"),
    ),
    order_by=("notification_id",),
    indexes=(("notification_id",), ("actor", "notification_id"), ("actor_org", "notification_id"), ("correlation_id",)),
)
SUBJECTS = Table(
    "event_subjects",
    (
        Column("subject_kind"),
        Column("subject"),
        Column("relation"),
        Column("notification_id", INTEGER),
        Column("recorded_at"),
        Column("kind"),
        Column("reference"),
        Column("event"),
        # 1: named in what the event says (withheld with it: `domain.event_view`); 0: the record or what it belongs to
        Column("named", INTEGER, hidden=True),
    ),
    order_by=("notification_id", "subject_kind", "subject"),
    indexes=(("subject", "notification_id"),),
)
RECORDS = Table(
    "event_records",
    (
        Column("related", hidden=True),  # JSON: [subject_kind, subject, relation] every event concerns
        Column("kind"),
        Column("reference"),
        Column("events", INTEGER),
        Column("first_recorded_at"),
        Column("last_recorded_at"),
    ),
    order_by=("kind", "reference"),
    indexes=(("kind", "reference"),),
)

#: who did an event and what its client chose (`domain.event_view.WITHHELD_WITH_CONTENT`):
#: what a reader may not see of an event whose content is withheld from them
SAYS_WHO = ("actor", "actor_org", "actor_role", "correlation_id", "causation_id")

#: a competition's rows held back until its tenders are opened (key: the competition's id):
#: JSON [{"key", "row", "subjects"}] in log order (see "Sealed tenders" above)
SEALED = Table("event_sealed", (Column("held", hidden=True),))
#: the events that would say who tendered, and how many, before the opening (the one list)
SEALED_UNTIL_OPENING = SEALED_UNTIL_OPENED

#: field name -> the subject kind of the reference it holds (see ON_CONTRACTS)
NAMED = {
    "bidder": "organisation",
    "asked_by": "organisation",
    "evaluator_org": "organisation",
    "new_controller": "organisation",
    "provider": "provider",
    "to_provider": "provider",
    "from_provider": "provider",
    "location": "location",
    "contract": "contract",
    "competition": "competition",
    "framework": "framework",
    "template": "return_template",
    "evaluator": "person",
    "moderator": "person",
    "checked_by": "person",
    "reviewer": "person",
}
#: a contract's provider is the organisation that holds it, not a CQC registered provider
ON_CONTRACTS = {"provider": "organisation", "to_provider": "organisation", "from_provider": "organisation"}
#: the record kinds that are themselves a subject of another kind
SELF = {"data_subject": "person"}
#: NAMED as it reads on a contract's events
ON_CONTRACT_NAMED = {**NAMED, **ON_CONTRACTS}


#: fields every event has, which name nothing
_BASE_FIELDS = ("originator_id", "originator_version", "timestamp", "meta")
#: values that cannot hold personal data, skipped without a look inside
_SCALARS = (str, int, float, bool, type(None))
#: exact types that neither hold personal data nor name anything (`type(v) in _INERT` is a cheaper
#: test than `isinstance`; a subclass of one of them just takes the longer way)
_INERT = frozenset({int, float, bool, type(None), datetime, UUID})


class _Shape:
    """What the index needs to know about an event class, worked out once per class.

    Looking these up per event (the aggregate class by its name, its kind, which special
    events it is) was a noticeable part of indexing; the answers depend only on the class.
    """

    def __init__(self, cls: type) -> None:
        outer = cls.__qualname__.split(".")[0]
        aggregate = getattr(sys.modules[cls.__module__], outer, None)
        self.kind: str = getattr(aggregate, "KIND", "") or outer.lower()
        self.name = cls.__name__
        self.provider_changed = issubclass(cls, Location.ProviderChanged)


_SHAPES: dict[type, _Shape] = {}


def _shape(cls: type) -> _Shape:
    shape = _SHAPES.get(cls)
    if shape is None:
        shape = _SHAPES[cls] = _Shape(cls)
    return shape


def _people(value: Any, relation: str, found: list[tuple[str, str, str]]) -> None:
    """Every personal-data subject inside `value` into `found`, by its opaque id (the value is never read)."""
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, PersonalData):
        found.append(("person", value.subject, relation))
    elif isinstance(value, dict):
        for v in value.values():
            if type(v) not in _INERT:
                _people(v, relation, found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            if type(v) not in _INERT:
                _people(v, relation, found)


def named_subjects(kind: str, event: Any) -> list[tuple[str, str, str]]:
    """The subjects an event names in its own fields: (subject kind, subject, relation)."""
    return _named(kind, event, _shape(type(event)))


def _named(kind: str, event: Any, shape: _Shape) -> list[tuple[str, str, str]]:
    # The event's own attributes in their stored order (the first relation found for a subject
    # is the one shown), read in place rather than copied into a dict of fields first.
    attributes = vars(event)
    found: list[tuple[str, str, str]] = []
    named = ON_CONTRACT_NAMED if kind == "contract" else NAMED
    for name, value in attributes.items():
        cls = type(value)
        if cls is str:  # most fields: a reference if its name says so, never personal data
            if value and name in named:
                found.append((named[name], value, name))
            continue
        if cls in _INERT or name in _BASE_FIELDS:
            continue
        if name in named and isinstance(value, str) and value:
            found.append((named[name], value, name))
        _people(value, name, found)
    if shape.provider_changed:
        found.append(("provider", event.previous, "previous_provider"))
    if "bidders" in attributes or "declarations" in attributes or "letters" in attributes or "awards" in attributes:
        for bidder in _bidders(attributes):
            found.append(("organisation", bidder, "bidder"))
    if kind == "framework":
        for commissioner in attributes.get("commissioners", []):
            found.append(("organisation", commissioner["org"], "commissioner"))
    return found


def _bidders(fields: dict[str, Any]) -> list[str]:
    """Bidders named in lists and maps: an opening, declarations, an outcome, letters, an award."""
    names: list[str] = []
    if isinstance(fields.get("bidders"), list):
        names += fields["bidders"]  # TendersOpened
    if isinstance(fields.get("bidders"), dict):
        names += list(fields["bidders"])  # OutcomeDecided
    for item in fields.get("declarations", []) + fields.get("letters", []):
        if isinstance(item, dict) and "bidder" in item:
            names.append(item["bidder"])
    if isinstance(fields.get("awards"), dict):
        names += [b for lot in fields["awards"].values() for b in lot]
    return sorted(set(names))


#: parsed `related` columns by their JSON text (see `_related`)
_RELATED: dict[str, tuple[tuple[str, str, str], ...]] = {}


def _related(text: str) -> tuple[tuple[str, str, str], ...]:
    """A record's `related` column parsed, remembered by its text.

    Every event of a record reads the column, and most records' text is one of a few (a home's
    provider, a return's home and provider): parsing it once per distinct text rather than
    once per event saves a JSON decode per event. The value is a tuple, so nobody can change
    what another event will be given; the memo is bounded, and only a cache (same answers).
    """
    parsed = _RELATED.get(text)
    if parsed is None:
        if len(_RELATED) >= 50_000:
            _RELATED.clear()
        parsed = _RELATED[text] = tuple((k, s, r) for k, s, r in json.loads(text))
    return parsed


class _Fixed(NamedTuple):
    """The subjects every event of a record concerns, deduplicated as `_entry` does: (kind, subject, relation)."""

    subjects: list[tuple[str, str, str]]
    seen: set[tuple[str, str]]


def _fixed(kind: str, reference: Any, related: tuple[tuple[str, str, str], ...]) -> _Fixed:
    """The record itself then its related subjects, without repeats or nulls."""
    subjects: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for subject_kind, subject, relation in ((SELF.get(kind, kind), reference, "record"), *related):
        if subject is None or (subject_kind, subject) in seen:
            continue
        seen.add((subject_kind, subject))
        subjects.append((subject_kind, subject, relation))
    return _Fixed(subjects, seen)


#: page.notes key: the `event_records` rows this page's events moved (see `_moving`)
_MOVING = "event_index:records"


def _moving(page: Page) -> dict[str, dict[str, Any]]:
    """The records moved in this page, by key, as they stand: this read model's own dicts,
    changed in place event after event and put once when the page finishes (`finish`),
    rather than read, copied and put again for every event of a record. Nothing but this
    read model reads these rows within a page, and it reads them through `_current`."""
    moving = page.notes.get(_MOVING)
    if moving is None:
        moving = page.notes[_MOVING] = {}
    return moving


def _current(page: Page, record_key: str) -> dict[str, Any] | None:
    """A record's row as it stands, moves this page included (don't change it)."""
    moving = page.notes.get(_MOVING)
    if moving is not None and record_key in moving:
        return moving[record_key]
    return page.get(RECORDS.name, record_key)


class EventIndex(TableReadModel):
    name = "event_index"
    tables = (EVENTS, SUBJECTS, RECORDS, SEALED)
    followed = (LedgerAggregate.Event,)
    # Its rows carry their events' time and never change: "as at" is a condition on that column.
    keeps_history = False
    # Every stored event, whatever its topic: an index that missed a class would mislead an FOI search.
    topics = ()

    @handles(LedgerAggregate.Event)
    def indexed(self, event: Any, page: Page) -> None:
        self._index(event, page)

    @handles(*SEALED_UNTIL_OPENING)
    def held(self, event: Any, page: Page) -> None:
        # The domain takes tenders only before the deadline and opens them only after it, so
        # every sealed event arrives before its competition's TendersOpened.
        record_key = id_text(event.originator_id)
        entry = self._entry(event, _shape(type(event)), record_key, page, counted=False)
        held = json.loads((page.get(SEALED.name, record_key) or {}).get("held") or "[]")
        page.put(SEALED.name, record_key, {"held": json.dumps([*held, entry], sort_keys=True)})

    @handles(Competition.TendersOpened)
    def opened(self, event: Competition.TendersOpened, page: Page) -> None:
        self._index(event, page)
        self._unseal(page, id_text(event.originator_id))

    @handles(Location.ProviderChanged)
    def provider_changed(self, event: Location.ProviderChanged, page: Page) -> None:
        # A home's events concern its registered provider of the day.
        self._index(event, page, provider=("provider", event.provider, "provider"))

    @handles(Contract.Novated)
    def novated(self, event: Contract.Novated, page: Page) -> None:
        # A contract's events concern the organisation that holds it.
        self._index(event, page, provider=("organisation", event.to_provider, "provider"))

    def _index(self, event: Any, page: Page, *, provider: tuple[str, str, str] | None = None) -> None:
        """`_write(page, _entry(..., counted=True))` without the entry in between (most events);
        `provider`: what the record's events concern as its provider from this one on."""
        shape = _shape(type(event))
        record_key = id_text(event.originator_id)
        event_key = f"{record_key}|{event.originator_version}"
        at = utc(event.timestamp)
        reference, related, fixed = self._record(event, shape, record_key, page, at, counted=True, provider=provider)
        position = page.position
        name = shape.name
        kind = shape.kind
        meta = getattr(event, "meta", None) or {}
        actor = meta.get("actor") or {}
        insert = page.insert
        insert(EVENTS.name, event_key,
               {"notification_id": position, "recorded_at": at, "kind": kind, "reference": reference, "event": name,
                "version": event.originator_version, "actor": actor.get("id"), "actor_org": actor.get("org"),
                "actor_role": actor.get("role"), "command": meta.get("command"),
                "correlation_id": meta.get("correlation_id"), "causation_id": meta.get("causation_id")})
        for subject_kind, subject, relation in fixed.subjects:
            insert(SUBJECTS.name, f"{event_key}|{subject_kind}|{subject}",
                   {"subject_kind": subject_kind, "subject": subject, "relation": relation, "notification_id": position,
                    "recorded_at": at, "kind": kind, "reference": reference, "event": name, "named": 0})
        named = _named(kind, event, shape)
        if named:
            seen = fixed.seen
            for subject_kind, subject, relation in named:
                if subject is None or (subject_kind, subject) in seen:
                    continue
                seen.add((subject_kind, subject))
                insert(SUBJECTS.name, f"{event_key}|{subject_kind}|{subject}",
                       {"subject_kind": subject_kind, "subject": subject, "relation": relation,
                        "notification_id": position, "recorded_at": at, "kind": kind, "reference": reference,
                        "event": name, "named": 1})

    def _record(
        self,
        event: Any,
        shape: _Shape,
        record_key: str,
        page: Page,
        at: str,
        *,
        counted: bool,
        provider: tuple[str, str, str] | None = None,
    ) -> tuple[Any, tuple[tuple[str, str, str], ...], _Fixed]:
        """The event's record moved on (unless it is held back): its reference, related subjects,
        and the subjects every event of it concerns (the record itself, then `related`, its
        provider replaced by `provider` if given)."""
        kind = shape.kind
        moving = _moving(page)
        record = moving.get(record_key)
        if record is None:
            record = page.get(RECORDS.name, record_key)
            if record is None:
                reference = getattr(event, "reference", None) or getattr(event, "subject", None)
                record = {"kind": kind, "reference": reference, "events": 0, "first_recorded_at": at,
                          "related": json.dumps(belongs_to(kind, event, page))}
            if counted:
                moving[record_key] = record
        text = record["related"]
        related = _related(text)
        # Only a provider's change (ProviderChanged, Novated) changes what a record's events
        # concern; for the rest the JSON text stays as it was (encoding the same list again
        # gives the same text).
        if provider is not None:
            related = (*(r for r in related if r[2] != "provider"), provider)
            text = json.dumps(related)
        if counted:
            record["events"] += 1
            record["last_recorded_at"] = at
            record["related"] = text
        reference = record["reference"]
        return reference, related, _fixed(kind, reference, related)

    def _entry(self, event: Any, shape: _Shape, record_key: str, page: Page, *, counted: bool) -> dict[str, Any]:
        """The event's index rows, and its record moved on (unless it is held back)."""
        event_key = f"{record_key}|{event.originator_version}"
        at = utc(event.timestamp)
        kind = shape.kind
        reference, related, fixed = self._record(event, shape, record_key, page, at, counted=counted)

        meta = getattr(event, "meta", None) or {}
        actor = meta.get("actor") or {}
        name = shape.name
        position = page.position
        row = {"notification_id": position, "recorded_at": at, "kind": kind, "reference": reference, "event": name,
               "version": event.originator_version, "actor": actor.get("id"), "actor_org": actor.get("org"),
               "actor_role": actor.get("role"), "command": meta.get("command"),
               "correlation_id": meta.get("correlation_id"), "causation_id": meta.get("causation_id")}
        subjects: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        named = [(*s, 0) for s in fixed.subjects] + [(*s, 1) for s in _named(kind, event, shape)]
        for subject_kind, subject, relation, in_content in named:
            if subject is None or (subject_kind, subject) in seen:
                continue
            seen.add((subject_kind, subject))
            subjects.append({"subject_kind": subject_kind, "subject": subject, "relation": relation,
                             "notification_id": position, "recorded_at": at, "kind": kind, "reference": reference,
                             "event": name, "named": in_content})
        return {"key": event_key, "row": row, "subjects": subjects}

    @staticmethod
    def _write(page: Page, entry: dict[str, Any]) -> None:
        # An event's rows never change once written (a held tender's are written only at the
        # opening, once), so they are inserted rather than kept and upserted by the page.
        key = entry["key"]
        page.insert(EVENTS.name, key, entry["row"])
        for subject in entry["subjects"]:
            page.insert(SUBJECTS.name, f"{key}|{subject['subject_kind']}|{subject['subject']}", subject)

    def finish(self, page: Page) -> None:
        # The records the page's events moved, each written once with where it ended (see `_moving`).
        for record_key, record in page.notes.pop(_MOVING, {}).items():
            page.put(RECORDS.name, record_key, record)

    def _unseal(self, page: Page, record_key: str) -> None:
        """At the opening: index the tenders held back, and count them in the competition's record."""
        found = page.get(SEALED.name, record_key)
        if found is None:
            return
        held = json.loads(found["held"])
        for entry in held:
            self._write(page, entry)
        record = _current(page, record_key)
        if record is not None:
            moving = _moving(page)
            if record_key not in moving:
                moving[record_key] = record = dict(record)
            record["events"] += len(held)
        page.delete(SEALED.name, record_key)

def belongs_to(kind: str, created: Any, page: Page) -> list[tuple[str, str, str]]:
    """The subjects every event of a new record concerns, from its first event."""
    related: list[tuple[str, str, str]] = []
    if kind == "location":
        related.append(("provider", created.provider, "provider"))
    elif kind == "contract":
        related.append(("organisation", created.provider, "provider"))
    location = getattr(created, "location", None) if kind != "provider" else None
    if kind in ("return", "placement_return", "quality_visit") and location:
        related.append(("location", location, "location"))
        related += _inherited(page, str(Location.id_for(location)), "location's provider")
    contract = created.reference if kind == "performance_record" else getattr(created, "contract", None)
    if kind in ("quality_visit", "performance_record") and contract:
        related.append(("contract", contract, "contract"))
        related += _inherited(page, str(Contract.id_for(contract)), "contract's provider")
    return related


def _inherited(page: Page, record_key: str, relation: str) -> list[tuple[str, str, str]]:
    # Read from this index's own record of the location or contract, as it stood when this one began.
    record = _current(page, record_key)
    if record is None:
        return []
    return [(k, s, relation) for k, s, r in json.loads(record["related"]) if r == "provider"]
