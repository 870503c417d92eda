"""Check a procurement report (defence pack) offline, fact by fact, with only our public key.

For each fact, in the pack's order: every event it cites must be, byte for byte, a leaf of the
tree the signed checkpoint commits to (a withheld record: its leaf hash must be); its footnote
must say what the event's own metadata says; each value must equal the field of the cited
event it claims (personal data: the field must hold that subject's ciphertext, as an erased
subject's still does); every placeholder of the statement must be such a value; and, where
the ledger signed the pack, the fact must be the one it signed. Then each bidder's agreed and
weighted scores are recomputed from the cited score and moderation events against the
published criteria and compared with the decided ones, and the standstill's days with the
rule of its regime. The first fact that does not hold is named and the check stops.

Standard library and `cryptography` only (through note.py): nothing of the ledger's code.
"""

from __future__ import annotations

import base64
import json
import string
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from audit.verifier.digest import canonical, digest
from audit.verifier.leaf import LEAF_FORMAT, leaf_bytes
from audit.verifier.merkle import ProofError, leaf_hash, verify_inclusion
from audit.verifier.note import Checkpoint, NoteError, parse_checkpoint, parse_verifier_key, verify_note

PACK_FORMAT = "aqp-defence-pack-v1"
PACK_NOTE_HEADER = "aqp-defence-pack-v1"
LONDON = ZoneInfo("Europe/London")


class FactFailed(ValueError):
    """A fact of the pack does not hold; `where` names it (section/fact)."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where} does not hold: {why}")
        self.where = where


def field_at(state: Any, path: list[Any]) -> Any:
    node = state
    for step in path:
        if isinstance(node, dict) and isinstance(step, str) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(node):
            node = node[step]
        else:
            raise KeyError(f"the event has no field {path!r}")
    if isinstance(node, dict) and node.get("_type_") == "datetime_iso":
        return node["_data_"]
    return node


class _Events:
    """The pack's events, each checked once against the signed root."""

    def __init__(self, pack: dict[str, Any], checkpoint: Checkpoint) -> None:
        self.carried = pack["events"]
        self.checkpoint = checkpoint
        self.states: dict[int, Any] = {}
        self.checked: set[int] = set()
        self.competition_id: str | None = None

    def check(self, position: int) -> Any:
        """The event's stored JSON (None: withheld, its leaf alone proven); ValueError if it does not hold."""
        if position in self.checked:
            return self.states.get(position)
        entry = self.carried.get(str(position))
        if entry is None:
            raise ValueError(f"it cites event {position}, which the pack does not carry")
        proof = [base64.b64decode(h, validate=True) for h in entry["inclusion_proof"]]
        if int(entry["tree_size"]) != self.checkpoint.size:
            raise ValueError(f"event {position}'s proof is for a tree of size {entry['tree_size']}, not the signed {self.checkpoint.size}")
        record = entry["record"]
        if record is None:
            leaf = base64.b64decode(entry["leaf_hash"], validate=True)
        else:
            if int(record["notification_id"]) != position:
                raise ValueError(f"event {position}'s record is notification {record['notification_id']}")
            state_bytes = base64.b64decode(record["state"], validate=True)
            leaf = leaf_hash(leaf_bytes(position, record["originator_id"], int(record["originator_version"]), record["topic"], state_bytes))
        try:
            verify_inclusion(int(entry["leaf_index"]), self.checkpoint.size, leaf, proof, self.checkpoint.root_hash)
        except ProofError as err:
            raise ValueError(f"event {position} is not in the signed log: {err}") from None
        if record is not None and entry.get("leaf_hash") is not None and base64.b64decode(entry["leaf_hash"], validate=True) != leaf:
            raise ValueError(f"event {position}'s record does not give the leaf hash stated")
        if record is not None:
            # One competition's record: an event of another, however like, is not this decision's.
            if self.competition_id is None:
                self.competition_id = record["originator_id"]
            elif record["originator_id"] != self.competition_id:
                raise ValueError(f"event {position} is of record {record['originator_id']}, not of the competition {self.competition_id}")
            try:
                state = json.loads(state_bytes)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise ValueError(f"event {position}'s stored state is not JSON") from None
            self._check_footnote(position, entry.get("footnote") or {}, record["topic"], state)
            self.states[position] = state
        self.checked.add(position)
        return self.states.get(position)

    def _check_footnote(self, position: int, note: dict[str, Any], topic: str, state: Any) -> None:
        meta = state.get("meta") or {}
        actor = meta.get("actor") or {}
        said = {
            "position": position,
            "type": topic.rpartition(":")[2].removeprefix("Competition."),
            "who": actor.get("id"),
            "role": actor.get("role"),
            "org": actor.get("org"),
            "when": meta.get("recorded_at"),
            "why": meta.get("reason"),
        }
        for key, value in said.items():
            if note.get(key) != value:
                raise ValueError(f"event {position}'s footnote says {key} {note.get(key)!r}, the event says {value!r}")


def _check_fact(where: str, fact: dict[str, Any], events: _Events) -> bool:
    """Whether every value was checked against its event (False: some rest on withheld records)."""
    try:
        for position in fact["cites"]:
            events.check(int(position))
        claimed = set()
        complete = True
        for claim in fact["claims"]:
            name, position = claim["value"], int(claim["event"])
            if position not in fact["cites"]:
                raise ValueError(f"its value {name!r} rests on event {position}, which it does not cite")
            state = events.check(position)
            claimed.add(name)
            if state is None:
                complete = False  # the record is withheld from this reader: stated, its leaf proven
                continue
            found = field_at(state, claim["path"])
            if claim.get("personal"):
                if not (isinstance(found, dict) and str(found.get("_type_", "")).startswith("personal_data")):
                    raise ValueError(f"its value {name!r} claims personal data at {claim['path']!r} of event {position}, which holds none")
                continue
            if canonical(found) != canonical(fact["values"].get(name)):
                raise ValueError(
                    f"its value {name!r} is {fact['values'].get(name)!r}, but event {position} says {found!r} at {claim['path']!r}"
                )
        placeholders = {field for _, field, _, _ in string.Formatter().parse(fact["statement"]) if field is not None}
        unbacked = sorted((placeholders | set(fact["values"])) - claimed)
        if unbacked:
            raise ValueError(f"its value(s) {', '.join(unbacked)} rest on no cited event")
    except FactFailed:
        raise
    except (ValueError, KeyError, TypeError, IndexError) as err:
        raise FactFailed(where, str(err).strip("'\"")) from None
    return complete


def _signed_digests(pack: dict[str, Any], keys: list[Any], checkpoint_note: str) -> dict[str, str] | None:
    """The fact digests the ledger signed, or None for an unsigned pack."""
    if pack.get("signature") is None:
        return None
    text, _ = verify_note(pack["signature"], keys)
    lines = text[:-1].split("\n")
    if len(lines) < 4 or lines[0] != PACK_NOTE_HEADER:
        raise NoteError("the pack's signed note is not a defence pack's")
    subject = f"{pack['competition']} lot={pack['lot'] or '-'} for={pack['for_bidder'] or '-'}"
    first = checkpoint_note.split("\n")
    if lines[2] != subject:
        raise NoteError(f"the ledger signed the pack of {lines[2]!r}, not of {subject!r}")
    if lines[3] != f"checkpoint {first[1]} {first[2]}":
        raise NoteError("the ledger signed the pack against another checkpoint")
    signed = {}
    for line in lines[4:]:
        where, _, value = line.partition(" ")
        signed[where] = value
    return signed


def _check_signed(where: str, item: Any, signed: dict[str, str] | None) -> None:
    if signed is None:
        return
    if where not in signed:
        raise FactFailed(where, "the ledger did not sign it: it was added to the pack")
    if signed[where] != digest(item):
        raise FactFailed(where, "it is not what the ledger signed: its statement or values were changed")


def _dec(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _recompute(where: str, item: dict[str, Any], events: _Events) -> str:
    """The bidder's agreed and weighted scores from the cited events, against the decided ones."""
    try:
        bidder = item["bidder"]
        states = {}
        for position in [item["criteria_event"], item["decided_event"], item["spread_event"], *item["score_events"], *item["moderation_events"]]:
            state = events.check(int(position))
            if state is None:
                raise ValueError(f"event {position} is withheld, so nothing can be recomputed from it")
            states[int(position)] = state
        criteria = states[item["criteria_event"]]["criteria"]
        spread = int(states[item["spread_event"]]["moderation_spread"])
        if spread != item["moderation_spread"]:
            raise ValueError(f"the moderation spread stated is {item['moderation_spread']}, the competition's is {spread}")
        individual: dict[str, dict[str, tuple[int, int]]] = {}
        for position in item["score_events"]:
            s = states[int(position)]
            if s["bidder"] != bidder:
                raise ValueError(f"score event {position} is of {s['bidder']}, not {bidder}")
            kept = individual.setdefault(s["criterion"], {})
            if s["evaluator"] not in kept or kept[s["evaluator"]][0] < s["revision"]:
                kept[s["evaluator"]] = (s["revision"], s["score"])
        moderated = {}
        for position in item["moderation_events"]:
            s = states[int(position)]
            if s["bidder"] != bidder:
                raise ValueError(f"moderation event {position} is of {s['bidder']}, not {bidder}")
            moderated[s["criterion"]] = s["score"]
        decided = states[item["decided_event"]]["bidders"][bidder]
        weighted = Decimal(0)
        for crit in criteria:
            cid = crit["id"]
            if cid in moderated:
                final = Decimal(moderated[cid])
            else:
                values = [score for _, score in individual.get(cid, {}).values()]
                if not values:
                    raise ValueError(f"no score for {cid} is cited")
                if max(values) - min(values) > spread:
                    raise ValueError(f"the scores for {cid} spread from {min(values)} to {max(values)}, more than {spread}, and no moderation is cited")
                final = Decimal(sum(values)) / Decimal(len(values))
            if _dec(final) != decided["scores"].get(cid):
                raise ValueError(f"{cid} recomputes to {_dec(final)}, the decided score is {decided['scores'].get(cid)}")
            weighted += final / Decimal(crit["max_score"]) * Decimal(crit["weight"])
        if _dec(weighted) != decided["weighted_score"]:
            raise ValueError(f"the weighted score recomputes to {_dec(weighted)}, the decided one is {decided['weighted_score']}")
    except (ValueError, KeyError, TypeError) as err:
        raise FactFailed(where, str(err).strip("'\"")) from None
    return _dec(weighted)


def _check_standstill(where: str, days: dict[str, Any], events: _Events, regime: str | None) -> bool:
    """Whether the first and last days were checked against the record the standstill counts from
    (the letters, or the notice that begins it under the Procurement Act 2023 or the PSR; False:
    that record is withheld from this reader, so they are as stated; the days between are checked
    by the calendar all the same)."""
    try:
        counted_from = days.get("counted_from", "letters")
        if counted_from not in ("letters", "notice"):
            raise ValueError(f"it counts from {counted_from!r}, neither the letters nor a notice")
        if counted_from == "notice" and regime not in ("pa2023", "psr2024"):
            raise ValueError(f"it counts from a notice, but a {regime} standstill counts from the letters")
        state = events.check(int(days["event"]))
        if counted_from == "letters" and regime in ("pa2023", "psr2024"):
            # Until its notice is published the letters stand in for it; once it is, the standstill counts from it.
            for position in sorted(int(p) for p in events.carried):
                later = events.check(position) if position > int(days["event"]) else None
                if later and later.get("notice_type") and later.get("standstill_last_day"):
                    raise ValueError(f"it counts from the letters, but the pack carries the notice that begins it (event {position})")
        begins = date.fromisoformat(days.get("begins_on", days["letters_sent_on"]))
        if state is None:
            last = date.fromisoformat(days["last_day"])
        else:
            if counted_from == "notice":
                if not state.get("notice_type") or not state.get("standstill_last_day"):
                    raise ValueError("the event it counts from is not a notice that begins the standstill")
                start = date.fromisoformat(state["published_on"])
            else:
                start = datetime.fromisoformat(field_at(state, ["meta", "recorded_at"])).astimezone(LONDON).date()
                if days["letters_sent_on"] != start.isoformat():
                    raise ValueError("its letters day is not the letters event's")
            last = date.fromisoformat(state["standstill_last_day"])
            if begins != start or days["last_day"] != last.isoformat():
                raise ValueError(f"its first or last day is not the {'notice' if counted_from == 'notice' else 'letters'} event's")
        listed = [date.fromisoformat(d["day"]) for d in days["days"]]
        if listed != [begins + timedelta(days=i) for i in range((last - begins).days + 1)]:
            raise ValueError("its days do not run one by one from the day it begins with to the last day")
        working = {date.fromisoformat(d["day"]): d["working_day"] for d in days["days"]}
        for day, flag in working.items():
            if day.weekday() >= 5 and flag:
                raise ValueError(f"it counts {day.isoformat()}, a {day.strftime('%A')}, as a working day")
        if regime == "pcr2015":
            expected = next(d for d in sorted(working) if d >= begins + timedelta(days=10) and working[d])
        elif regime in ("pa2023", "psr2024"):
            # PA 2023 s.51: 8 working days beginning with the notice's day; PSR reg 12: the 8 after it.
            counted = [d for d in sorted(working) if working[d] and (d >= begins if regime == "pa2023" else d > begins)]
            expected = counted[7] if len(counted) >= 8 else None
        else:
            return state is not None
        if expected != last:
            raise ValueError(f"by its calendar the {regime} standstill's last day is {expected}, not {last.isoformat()}")
    except (ValueError, KeyError, TypeError, StopIteration) as err:
        raise FactFailed(where, str(err).strip("'\"") or "its calendar does not reach the last day") from None
    return state is not None


def check_pack(pack: dict[str, Any], key_lines: list[str]) -> list[str]:
    """The lines of the report of what was verified; FactFailed (or NoteError) for the first that does not hold."""
    if pack.get("format") != PACK_FORMAT:
        raise ValueError(f"unknown pack format {pack.get('format')!r}; this verifier knows {PACK_FORMAT}")
    keys = [parse_verifier_key(line.strip()) for line in key_lines if line.strip()]
    if not keys:
        raise ValueError("no verifier key given")
    text, signers = verify_note(pack["checkpoint"], keys)
    checkpoint = parse_checkpoint(text)
    for entry in pack["events"].values():
        if entry.get("leaf_format") != LEAF_FORMAT:
            raise ValueError(f"unknown leaf format {entry.get('leaf_format')!r}")
    signed = _signed_digests(pack, keys, pack["checkpoint"])
    events = _Events(pack, checkpoint)
    report = [
        f"checkpoint of {checkpoint.origin}, size {checkpoint.size}, signed by {', '.join(signers)}",
        f"pack of {pack['competition']}" + (f", lot {pack['lot']}" if pack["lot"] else "")
        + (f", for bidder {pack['for_bidder']}" if pack["for_bidder"] else ""),
    ]
    seen: set[str] = set()
    regime = None
    for section in pack["sections"]:
        proven, stated = [], []
        for fact in section["facts"]:
            where = f"{section['id']}/{fact['id']}"
            complete = _check_fact(where, fact, events)
            _check_signed(where, fact, signed)
            seen.add(where)
            (proven if complete else stated).append(fact["id"])
            if section["id"] == "subject" and "regime" in fact["values"]:
                regime = fact["values"]["regime"]
        line = f"{section['id']}: {len(proven)} fact(s) verified"
        if proven:
            line += f" ({', '.join(proven)})"
        if stated:
            vouched = "signed by the ledger" if signed is not None else "NOT signed"
            line += (f"; {len(stated)} stated from records withheld from this reader ({vouched}, their leaves proven, "
                     f"their values not checkable here: {', '.join(stated)})")
        report.append(line)
    for i, item in enumerate(pack["recomputations"]):
        where = f"recomputation/{i}"
        weighted = _recompute(where, item, events)
        _check_signed(where, item, signed)
        seen.add(where)
        report.append(f"{where}: {item['bidder']} recomputes to weighted score {weighted}, equal to the decided one")
    # The ledger signs the standstill line whether or not there is one (null): a pack without it is checked too.
    _check_signed("standstill", pack.get("standstill_days"), signed)
    seen.add("standstill")
    if pack.get("standstill_days") is not None:
        tied = _check_standstill("standstill", pack["standstill_days"], events, regime)
        counted = pack["standstill_days"].get("counted_from", "letters")
        line = (f"standstill: {len(pack['standstill_days']['days'])} days from the {'notice' if counted == 'notice' else 'letters'} "
                f"of {pack['standstill_days'].get('begins_on', pack['standstill_days']['letters_sent_on'])}, counted by the {regime} rule to "
                f"{pack['standstill_days']['last_day']} on the calendar stated")
        if not tied:
            line += (f"; the record it counts from is withheld from this reader, so its first and last day are as stated "
                     f"({'signed by the ledger' if signed is not None else 'NOT signed'})")
        report.append(line)
    if signed is not None:
        missing = sorted(set(signed) - seen)
        if missing:
            raise FactFailed(missing[0], "the ledger signed it, but it is missing from the pack")
        report.append("wording: every statement is the one the ledger signed")
    else:
        report.append("wording: NOT signed; the values are proven, the words around them are not")
    report.append(f"OK: {sum(len(s['facts']) for s in pack['sections'])} facts; {len(events.checked)} cited events proven against the checkpoint")
    return report
