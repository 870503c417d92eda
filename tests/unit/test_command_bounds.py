"""Every field of every command has the bound a user would expect (issue 13, finding 5).

Read off the command union itself, so a new command or field without a bound fails here: a
string has a length or a pattern (or is one of a list), a number a maximum, a list and a
mapping a most, and a date the century's window. `check_bounds` then does what the types
cannot say: no duplicates in a set, dates within the century, "about now" dates near the
command's clock, no NUL character in any text (finding 8: PostgreSQL cannot keep one).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import msgspec
import msgspec.inspect as mi
import pytest

from domain import commands as c
from domain.kernel.command_types import check_bounds
from domain.kernel.errors import ValidationFailed

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)


def unbounded(t: object, path: str, meta: mi.Metadata | None = None) -> list[str]:
    if isinstance(t, mi.Metadata):
        return unbounded(t.type, path, t)
    if isinstance(t, mi.UnionType):
        return [p for arm in t.types for p in unbounded(arm, path)]
    if isinstance(t, mi.StrType):
        return [] if t.max_length is not None or t.pattern is not None else [f"{path}: a string without a length or pattern"]
    if isinstance(t, mi.IntType):
        return [] if t.le is not None or t.lt is not None else [f"{path}: an integer without a maximum"]
    if isinstance(t, mi.FloatType):
        return [] if t.le is not None and t.ge is not None else [f"{path}: a number without both bounds"]
    if isinstance(t, (mi.DateType, mi.DateTimeType)):
        schema = (meta.extra_json_schema or {}) if meta else {}
        return [] if "pattern" in schema.get("extra", {}) else [f"{path}: a date without its window declared"]
    if isinstance(t, mi.ListType):
        own = [] if t.max_length is not None else [f"{path}: a list without a most"]
        return own + unbounded(t.item_type, f"{path}[]")
    if isinstance(t, mi.DictType):
        own = [] if t.max_length is not None else [f"{path}: a mapping without a most"]
        return own + unbounded(t.key_type, f"{path}{{key}}") + unbounded(t.value_type, f"{path}{{}}")
    if isinstance(t, mi.StructType):
        return [p for f in t.fields for p in unbounded(f.type, f"{path}.{f.name}")]
    # Literals, booleans, None and Any (a template's JSON: bounded by its number of keys and the body's depth)
    return []


def test_every_field_of_every_command_has_a_bound():
    problems = [p for cls in c.COMMAND_TYPES.values() for p in unbounded(mi.type_info(cls), cls.__struct_config__.tag)]
    assert problems == []


def decode(command: dict) -> c.Command:
    return msgspec.convert(command, c.AnyCommand, strict=False)


def refusal(command: dict) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        check_bounds(decode(command), NOW)
    return refused.value


TENDER = {"type": "tender.submit", "competition": "C-1", "lots": ["A", "B"], "content_sha256": "a" * 64, "size_bytes": 10}


def test_a_set_with_a_duplicate_is_refused_naming_the_list():
    error = refusal({**TENDER, "lots": ["A", "B", "A"]})
    assert error.kind == "validation" and error.code == "duplicate"
    assert error.fields == [{"field": "lots", "rule": "duplicate", "message": "lots lists 'A' more than once."}]
    check_bounds(decode(TENDER), NOW)


def test_a_nested_date_outside_the_century_is_refused_with_its_path():
    plan = {"type": "action_plan.open", "contract": "K-1", "plan": "P-1",
            "actions": [{"id": "a1", "description": "Train staff", "owner_role": "manager", "due": "2026-09-01"},
                        {"id": "a2", "description": "Audit", "owner_role": "manager", "due": "1999-12-31"}]}
    error = refusal(plan)
    assert error.code == "date_out_of_range" and error.fields[0]["field"] == "actions[1].due"


@pytest.mark.parametrize("day, refused", [
    (NOW.date(), False),
    (NOW.date() - timedelta(days=366), False),
    (NOW.date() - timedelta(days=367), True),
    (date(2000, 1, 1), True),
])
def test_vacancies_are_for_a_day_within_the_year_before_the_command(day, refused):
    command = {"type": "location.report_vacancies", "location": "1-1", "date": day.isoformat()}
    if refused:
        assert refusal(command).fields[0]["field"] == "date"
    else:
        check_bounds(decode(command), NOW)


def test_a_deadline_more_than_two_years_ahead_is_refused_but_a_past_one_is_left_to_the_competition():
    opened = {"type": "competition.open", "competition": "C-1", "title": "t", "procedure": "open", "standstill_regime": "pcr2015",
              "lots": [{"id": "L", "name": "Lot"}], "clarification_deadline": (NOW + timedelta(days=10)).isoformat()}
    error = refusal({**opened, "tender_deadline": (NOW + timedelta(days=800)).isoformat()})
    assert error.code == "date_too_late" and error.fields[0]["field"] == "tender_deadline"
    check_bounds(decode({**opened, "tender_deadline": (NOW - timedelta(days=1)).isoformat()}), NOW)


def test_a_return_period_is_within_ten_years_before_and_one_after():
    submitted = {"type": "return.submit", "location": "1-1", "template": "london-aqp-care-home-monthly"}
    check_bounds(decode({**submitted, "period": "2016-04"}), NOW)
    assert refusal({**submitted, "period": "2015-04"}).code == "period_out_of_range"
    assert refusal({**submitted, "period": "2028-04"}).fields[0]["field"] == "period"


def test_the_bounds_are_in_the_decoder_too():
    for bad in ({**TENDER, "size_bytes": 2**63}, {**TENDER, "size_bytes": 2**64}, {**TENDER, "lots": ["A"] * 101}):
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(msgspec.json.encode(bad), type=c.AnyCommand)


OPENED = {"type": "competition.open", "competition": "C-1", "title": "Residential care", "procedure": "open",
          "standstill_regime": "pcr2015", "lots": [{"id": "A", "name": "Lot A"}, {"id": "B", "name": "Lot B"}],
          "clarification_deadline": (NOW + timedelta(days=10)).isoformat(), "tender_deadline": (NOW + timedelta(days=20)).isoformat()}
CQC = {"type": "location.import_cqc", "record": {"locationId": "1-1", "name": "Aster House", "gacServiceTypes": [{"name": "Nursing homes"}]}}


@pytest.mark.parametrize("command, field", [
    ({**OPENED, "title": "Residential\x00care"}, "title"),
    ({**OPENED, "lots": [{"id": "A", "name": "Lot A"}, {"id": "B", "name": "\x00"}]}, "lots[1].name"),
    ({**TENDER, "reason": "resubmitted\x00"}, "reason"),
    ({**CQC, "record": {**CQC["record"], "gacServiceTypes": [{"name": "Nursing\x00homes"}]}}, "record.gacServiceTypes[0].name"),
    ({**CQC, "record": {**CQC["record"], "na\x00me": "x"}}, "record.na\x00me"),
])
def test_text_holding_a_nul_character_is_refused_wherever_it_is(command, field):
    error = refusal(command)
    assert error.kind == "validation" and error.code == "nul_character"
    assert [f["field"] for f in error.fields] == [field]


def test_text_holding_other_control_characters_a_user_may_mean_is_taken():
    check_bounds(decode({**TENDER, "reason": "line one\nline two\ttabbed"}), NOW)


def test_the_same_commands_without_it_are_taken():
    check_bounds(decode(OPENED), NOW)
    check_bounds(decode(CQC), NOW)
