"""CQC location records: read one, and work out what it changes. Pure functions, no I/O.

`parse_location(raw)` turns a record of the CQC public API (`/public/v1/locations/{id}`, the
shape in `../shared/cqc/location_examples.json`) into a `CqcLocation`: the facts the ledger
keeps, normalised (dates as ISO text, ratings keyed by key question, the registered
manager as an opaque subject id with the name beside it). Optional fields may be missing;
a field that is present but malformed refuses the whole record with `CqcRecordInvalid`,
whose `field` is the record's own path (`currentRatings.overall.rating`).

`changes(facts, record)` compares a record with what a Location already holds and returns
one `Change` per real change, in a fixed order, so importing the same record twice records
nothing the second time. Ratings are history: every distinct rating set (its date and six
ratings) is kept, a set once seen is never recorded again, and a set that CQC stops listing
is not forgotten.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import uuid5

import msgspec
from msgspec import Struct

from domain.kernel.errors import ValidationFailed
from domain.kernel.metadata import LEDGER_NAMESPACE

CQC_ID = re.compile(r"^1-[0-9]{1,20}$")
REGISTERED, DEREGISTERED = "Registered", "Deregistered"
REGISTRATION_STATUSES = (REGISTERED, DEREGISTERED)
INADEQUATE = "Inadequate"
REGISTERED_MANAGER_ROLE = "registered manager"
#: CQC's key question names -> our field names
KEY_QUESTIONS = {"safe": "safe", "effective": "effective", "caring": "caring", "responsive": "responsive", "well-led": "well_led"}
NURSING_SERVICE = "Nursing homes"


class CqcRecordInvalid(ValidationFailed):
    """A CQC record that cannot be read; `field` is its path in the record."""

    code = "cqc_record_invalid"


# ------------------------------------------------------------------ the normalised record


class Address(Struct, frozen=True, kw_only=True):
    line1: str | None = None
    line2: str | None = None
    town: str | None = None
    county: str | None = None
    postcode: str | None = None


class Area(Struct, frozen=True, kw_only=True):
    region: str | None = None
    local_authority: str | None = None
    #: the ICB (or, in records before July 2022, the CCG) whose area the home is in
    icb_code: str | None = None
    icb_name: str | None = None
    #: "icb" when CQC gave onspdIcb*, "ccg" when only the older onspdCcg* fields were there
    icb_kind: str | None = None


class Rating(Struct, frozen=True):
    rating: str
    report_date: str | None = None


class RatingSet(Struct, frozen=True, kw_only=True):
    """One published rating: overall and the five key questions, with its report date."""

    report_date: str | None
    overall: str
    safe: Rating | None = None
    effective: Rating | None = None
    caring: Rating | None = None
    responsive: Rating | None = None
    well_led: Rating | None = None
    report_link_id: str | None = None
    #: set when the rating was inherited from a predecessor organisation
    inherited_from: str | None = None


class Activity(Struct, frozen=True):
    code: str
    name: str


class RegisteredManager(Struct, frozen=True):
    #: opaque id of the person (see `manager_subject`); the name is personal data
    subject: str
    name: str


class CqcLocation(Struct, frozen=True, kw_only=True):
    location_id: str
    provider_id: str
    name: str
    brand_id: str | None = None
    brand_name: str | None = None
    address: Address = Address()
    phone: str | None = None
    website: str | None = None
    area: Area = Area()
    registration_status: str
    registration_date: str | None = None
    deregistration_date: str | None = None
    predecessor: str | None = None
    predecessor_reason: str | None = None
    successor: str | None = None
    care_home: bool | None = None
    beds: int | None = None
    service_types: list[str] = []
    regulated_activities: list[Activity] = []
    specialisms: list[str] = []
    registered_managers: list[RegisteredManager] = []
    manager_absent_since: str | None = None
    current_rating: RatingSet | None = None
    #: every distinct dated rating set in the record, oldest first
    ratings: list[RatingSet] = []


def manager_subject(location_id: str, name: str) -> str:
    """The opaque data-subject id of a location's registered manager (stable across imports)."""
    return str(uuid5(LEDGER_NAMESPACE, f"registered-manager:{location_id}:{name}"))


# ------------------------------------------------------------------------------ reading


def _invalid(field: str, message: str) -> CqcRecordInvalid:
    return CqcRecordInvalid(f"CQC record field {field}: {message}", field=field)


def _path(base: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


def _obj(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(field, f"must be an object, not {_kind(value)}")
    return value


def _list(raw: dict[str, Any], key: str, base: str = "") -> list[tuple[str, Any]]:
    """The items of an optional list with their paths (missing or null: no items)."""
    field = _path(base, key)
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(field, f"must be a list, not {_kind(value)}")
    return [(_path(field, i), item) for i, item in enumerate(value)]


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _text(raw: dict[str, Any], key: str, base: str = "", *, required: bool = False) -> str | None:
    field = _path(base, key)
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _invalid(field, "is required")
        return None
    if not isinstance(value, str):
        raise _invalid(field, f"must be text, not {_kind(value)}")
    return " ".join(value.split())


def _item_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _invalid(field, f"must be text, not {_kind(value)}")
    return " ".join(value.split())


def _required(raw: dict[str, Any], key: str, base: str = "") -> str:
    value = _text(raw, key, base, required=True)
    assert value is not None
    return value


def _cqc_id(raw: dict[str, Any], key: str, base: str = "", *, required: bool = True) -> str | None:
    value = _text(raw, key, base, required=required)
    if value is not None and not CQC_ID.match(value):
        raise _invalid(_path(base, key), f"{value!r} is not a CQC id like 1-123456789")
    return value


def _date(raw: dict[str, Any], key: str, base: str = "") -> str | None:
    value = _text(raw, key, base)
    if value is None:
        return None
    try:
        # CQC writes dates as 2019-10-31; tolerate a time after them.
        return date.fromisoformat(value[:10] if len(value) > 10 and value[10] == "T" else value).isoformat()
    except ValueError:
        raise _invalid(_path(base, key), f"{value!r} is not a date (YYYY-MM-DD)") from None


def _beds(raw: dict[str, Any]) -> int | None:
    value = raw.get("numberOfBeds")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("numberOfBeds", f"must be a whole number, not {_kind(value)}")
    if value < 0:
        raise _invalid("numberOfBeds", f"cannot be negative ({value})")
    return value


def _care_home(raw: dict[str, Any]) -> bool | None:
    value = _text(raw, "careHome")
    if value is None:
        return None
    if value.upper() not in ("Y", "N"):
        raise _invalid("careHome", f"must be Y or N, not {value!r}")
    return value.upper() == "Y"


def _area(raw: dict[str, Any]) -> Area:
    icb_code, icb_name = _text(raw, "onspdIcbCode"), _text(raw, "onspdIcbName")
    kind = "icb"
    if icb_code is None and icb_name is None:
        icb_code, icb_name, kind = _text(raw, "onspdCcgCode"), _text(raw, "onspdCcgName"), "ccg"
    return Area(
        region=_text(raw, "region"),
        local_authority=_text(raw, "localAuthority"),
        icb_code=icb_code,
        icb_name=icb_name,
        icb_kind=kind if icb_code or icb_name else None,
    )


def _names(raw: dict[str, Any], key: str, attribute: str) -> list[str]:
    names = []
    for field, item in _list(raw, key):
        names.append(_required(_obj(item, field), attribute, field))
    return sorted(set(names))


def _activities_and_managers(raw: dict[str, Any], location_id: str) -> tuple[list[Activity], list[RegisteredManager]]:
    activities: dict[str, Activity] = {}
    managers: dict[str, RegisteredManager] = {}
    for field, item in _list(raw, "regulatedActivities"):
        item = _obj(item, field)
        code = _text(item, "code", field) or _required(item, "name", field)
        activities[code] = Activity(code=code, name=_required(item, "name", field))
        for contact_field, contact in _list(item, "contacts", field):
            contact = _obj(contact, contact_field)
            roles = [_item_text(role, role_field).lower() for role_field, role in _list(contact, "personRoles", contact_field)]
            if REGISTERED_MANAGER_ROLE not in roles:
                continue  # other named people (nominated individuals) are not kept at all
            parts = [_text(contact, "personGivenName", contact_field), _text(contact, "personFamilyName", contact_field)]
            name = " ".join(p for p in parts if p)
            if not name:
                raise _invalid(_path(contact_field, "personFamilyName"), "a registered manager needs a name")
            subject = manager_subject(location_id, name)
            managers[subject] = RegisteredManager(subject=subject, name=name)
    return sorted(activities.values(), key=lambda a: a.code), sorted(managers.values(), key=lambda m: m.subject)


def _key_questions(raw: dict[str, Any], base: str, default_date: str | None) -> dict[str, Rating]:
    found: dict[str, Rating] = {}
    for field, item in _list(raw, "keyQuestionRatings", base):
        item = _obj(item, field)
        name = (_required(item, "name", field)).lower()
        if name not in KEY_QUESTIONS:
            continue  # a question CQC may add later: not one of the five we keep
        found[KEY_QUESTIONS[name]] = Rating(
            rating=_required(item, "rating", field), report_date=_date(item, "reportDate", field) or default_date
        )
    return found


def _current_rating(raw: dict[str, Any]) -> RatingSet | None:
    current = raw.get("currentRatings")
    if current is None:
        return None
    current = _obj(current, "currentRatings")
    if current.get("overall") is None:
        return None
    overall = _obj(current["overall"], "currentRatings.overall")
    base = "currentRatings.overall"
    report_date = _date(overall, "reportDate", base) or _date(current, "reportDate", "currentRatings")
    return RatingSet(
        report_date=report_date,
        overall=_required(overall, "rating", base),
        report_link_id=_text(overall, "reportLinkId", base),
        **_key_questions(overall, base, report_date),
    )


def _historic_ratings(raw: dict[str, Any]) -> list[RatingSet]:
    sets = []
    for field, item in _list(raw, "historicRatings"):
        item = _obj(item, field)
        report_date = _date(item, "reportDate", field)
        if report_date is None:
            raise _invalid(_path(field, "reportDate"), "a historic rating needs its report date")
        overall_field = _path(field, "overall")
        overall = _obj(item.get("overall"), overall_field)
        sets.append(
            RatingSet(
                report_date=report_date,
                overall=_required(overall, "rating", overall_field),
                report_link_id=_text(item, "reportLinkId", field),
                inherited_from=_text(item, "organisationId", field),
                **_key_questions(overall, overall_field, report_date),
            )
        )
    return sets


def _relationships(raw: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    predecessor = reason = successor = None
    for field, item in _list(raw, "relationships"):
        item = _obj(item, field)
        kind = (_text(item, "type", field) or "").lower()
        if kind == "hsca predecessor":
            predecessor = _cqc_id(item, "relatedLocationId", field)
            reason = _text(item, "reason", field)
        elif kind == "hsca successor":
            successor = _cqc_id(item, "relatedLocationId", field)
    return predecessor, reason, successor


def parse_location(raw: Any) -> CqcLocation:
    """A CQC API location record as the ledger keeps it; refuses a malformed record."""
    raw = _obj(raw, "(record)")
    location_id, provider_id = _cqc_id(raw, "locationId"), _cqc_id(raw, "providerId")
    assert location_id is not None and provider_id is not None
    status = _required(raw, "registrationStatus")
    if status not in REGISTRATION_STATUSES:
        raise _invalid("registrationStatus", f"must be one of {', '.join(REGISTRATION_STATUSES)}, not {status!r}")
    activities, managers = _activities_and_managers(raw, location_id)
    predecessor, predecessor_reason, successor = _relationships(raw)
    current = _current_rating(raw)
    dated = ([current] if current is not None and current.report_date else []) + _historic_ratings(raw)
    ratings: dict[tuple, RatingSet] = {}
    for rating_set in dated:
        ratings.setdefault(rating_key(msgspec.to_builtins(rating_set)), rating_set)
    return CqcLocation(
        location_id=location_id,
        provider_id=provider_id,
        name=_required(raw, "name"),
        brand_id=_text(raw, "brandId"),
        brand_name=_text(raw, "brandName"),
        address=Address(
            line1=_text(raw, "postalAddressLine1"),
            line2=_text(raw, "postalAddressLine2"),
            town=_text(raw, "postalAddressTownCity"),
            county=_text(raw, "postalAddressCounty"),
            postcode=(_text(raw, "postalCode") or "").upper() or None,
        ),
        phone=_text(raw, "mainPhoneNumber"),
        website=_text(raw, "website"),
        area=_area(raw),
        registration_status=status,
        registration_date=_date(raw, "registrationDate"),
        deregistration_date=_date(raw, "deregistrationDate"),
        predecessor=predecessor,
        predecessor_reason=predecessor_reason,
        successor=successor,
        care_home=_care_home(raw),
        beds=_beds(raw),
        service_types=_names(raw, "gacServiceTypes", "name"),
        regulated_activities=activities,
        specialisms=_names(raw, "specialisms", "name"),
        registered_managers=managers,
        manager_absent_since=_date(raw, "registeredManagerAbsentDate"),
        current_rating=current,
        ratings=sorted(ratings.values(), key=lambda r: rating_order(msgspec.to_builtins(r))),
    )


# ---------------------------------------------------------------------------- comparing


def rating_key(rating_set: dict[str, Any] | None) -> tuple | None:
    """What makes a rating set distinct: its date and its six ratings (not links or per-question dates)."""
    if rating_set is None:
        return None
    questions = tuple((rating_set.get(q) or {}).get("rating") for q in KEY_QUESTIONS.values())
    return (rating_set.get("report_date"), rating_set["overall"], *questions)


def rating_order(rating_set: dict[str, Any]) -> tuple[str, ...]:
    """Oldest first; sets of the same date in a stable order."""
    return tuple(str(part) for part in rating_key(rating_set) or ())


#: The groups of facts a Location keeps from CQC, each compared as a whole, in event order.
FACTS: dict[str, Callable[[CqcLocation], Any]] = {
    "provider": lambda r: r.provider_id,
    "name": lambda r: r.name,
    "address": lambda r: msgspec.to_builtins(r.address),
    "public_contact": lambda r: {"phone": r.phone, "website": r.website},
    "area": lambda r: msgspec.to_builtins(r.area),
    "registration": lambda r: {
        "status": r.registration_status,
        "registration_date": r.registration_date,
        "deregistration_date": r.deregistration_date,
        "predecessor": r.predecessor,
        "predecessor_reason": r.predecessor_reason,
        "successor": r.successor,
    },
    "beds": lambda r: r.beds,
    "services": lambda r: {
        "care_home": r.care_home,
        "service_types": list(r.service_types),
        "regulated_activities": msgspec.to_builtins(r.regulated_activities),
        "specialisms": list(r.specialisms),
    },
    # Compared by subject id, so an erased manager's unreadable name is no change.
    "managers": lambda r: {
        "subjects": [m.subject for m in r.registered_managers],
        "absent_since": r.manager_absent_since,
    },
}


def facts_of(record: CqcLocation) -> dict[str, Any]:
    """The record's facts as plain data, the shape a Location holds them in."""
    return {group: read(record) for group, read in FACTS.items()}


class Change(Struct, frozen=True):
    """One real change a record makes; `kind` names the event a Location records for it."""

    kind: str
    values: dict[str, Any]


def changes(facts: dict[str, Any], history: list[dict[str, Any]], current: dict[str, Any] | None, record: CqcLocation) -> list[Change]:
    """What `record` changes in a Location that holds `facts`, rating `history` and `current` rating."""
    new = facts_of(record)
    found: list[Change] = []
    for group in FACTS:
        if new[group] == facts.get(group):
            continue
        if group == "registration":
            found.append(_registration_change(facts.get(group) or {}, new[group]))
        elif group == "managers":
            names = {m.subject: m.name for m in record.registered_managers}
            found.append(
                Change(
                    "managers",
                    {"managers": [{"subject": s, "name": names[s]} for s in new[group]["subjects"]], "absent_since": new[group]["absent_since"]},
                )
            )
        else:
            found.append(Change(group, {group: new[group]}))
    found.extend(rating_changes(history, current, record))
    return found


def _registration_change(old: dict[str, Any], new: dict[str, Any]) -> Change:
    if old.get("status") == REGISTERED and new["status"] == DEREGISTERED:
        return Change("deregistered", new)
    if (old.get("status") == DEREGISTERED and new["status"] == REGISTERED) or (
        new["predecessor"] and new["predecessor"] != old.get("predecessor")
    ):
        return Change("reregistered", new)
    return Change("registration", new)


def rating_changes(history: list[dict[str, Any]], current: dict[str, Any] | None, record: CqcLocation) -> list[Change]:
    """One change per rating set not seen before, and one if CQC's current rating moved to a known set."""
    seen = {rating_key(r) for r in history}
    record_current = msgspec.to_builtins(record.current_rating) if record.current_rating else None
    current_key = rating_key(record_current)
    found = []
    for rating_set in record.ratings:
        as_data = msgspec.to_builtins(rating_set)
        key = rating_key(as_data)
        if key not in seen:
            found.append(Change("rating", {"rating": as_data, "current": key == current_key}))
    moved = current_key != rating_key(current) and not any(c.values["current"] for c in found)
    if moved and record_current is not None:
        found.append(Change("rating", {"rating": record_current, "current": True}))
    return found
