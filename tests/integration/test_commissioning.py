"""Who commissions what, read from the ledger (`domain.commissioning`), on both stores."""

from __future__ import annotations

from datetime import date, datetime, timezone

from api.bootstrap import ledger_at
from domain.contracts import commands as k
from domain.kernel.metadata import Actor

AT = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
NCL = Actor(id="c.ncl", org="ICB-NCL", role="commissioner")


def establish(ledger, reference: str, commissioners: list[k.Commissioner], actor: Actor = NCL):
    return ledger.handle(k.EstablishFramework(
        framework=reference, title="London AQP", kind="care_homes",
        lots=[k.FrameworkLot(id="NCL", name="North Central London"), k.FrameworkLot(id="SEL", name="South East London")],
        commissioners=commissioners, starts_on=date(2026, 4, 1), ends_on=date(2029, 3, 31), regime="pcr2015",
        escalation_ladder="nottingham", max_extension_months=12,
    ), actor, at=AT)


def test_a_contract_is_its_lots_and_a_home_its_areas_commissioners(ledger):
    assert establish(ledger, "F-1", [
        k.Commissioner(org="ICB-NCL", kind="icb", directorates=["Camden", "Islington"], lots=["NCL"]),
        k.Commissioner(org="ICB-SEL", kind="icb", directorates=["Southwark"], lots=["SEL"]),
        # a council commissioning every lot, its homes by their local authority, not its directorate's name
        k.Commissioner(org="LBC", kind="council", directorates=["Adult Social Care"], areas=["Camden"]),
    ]).ok
    directory = ledger.commissioning
    assert directory.of_contract(framework="F-1", lot="NCL") == {"ICB-NCL", "LBC"}
    assert directory.of_contract(framework="F-1", lot="SEL") == {"ICB-SEL", "LBC"}
    assert directory.of_contract(framework="NO-SUCH", lot="NCL") == set()
    # CQC's local authority, compared without case or surrounding spaces
    assert directory.of_home(local_authority=" camden ", commissioning_area=None) == {"ICB-NCL", "LBC"}
    assert directory.of_home(local_authority="Hertfordshire", commissioning_area=None) == set()
    # an out-of-area home placed with a directorate: that directorate's organisation too
    assert directory.of_home(local_authority="Hertfordshire", commissioning_area="Southwark") == {"ICB-SEL"}
    assert directory.of_framework("F-1") == {"ICB-NCL", "ICB-SEL", "LBC"}
    # a council's directorates name its functions, not places: its areas are what it names as such
    assert directory.has_area("LBC", " CAMDEN") and not directory.has_area("LBC", "Adult Social Care")
    assert directory.holders_of("camden") == {"ICB-NCL", "LBC"}


def test_a_framework_another_process_establishes_is_known_at_the_next_question(ledger, database_url):
    directory = ledger.commissioning
    assert directory.of_framework("F-2") == set()
    other = ledger_at(database_url)
    try:
        assert establish(other, "F-2", [k.Commissioner(org="ICB-NCL", kind="icb")]).ok
    finally:
        other.close()
    assert directory.of_framework("F-2") == {"ICB-NCL"}
    assert directory.of_contract(framework="F-2", lot="SEL") == {"ICB-NCL"}  # no lots named: every lot


def test_a_commissioner_establishes_only_a_framework_it_is_one_of_the_commissioners_of(ledger):
    before = ledger.max_position()
    result = establish(ledger, "F-3", [k.Commissioner(org="ICB-SEL", kind="icb")])
    assert not result.ok and result.error.code == "not_your_commission"
    assert ledger.max_position() == before
    refused = establish(ledger, "F-4", [k.Commissioner(org="ICB-NCL", kind="icb", lots=["NEL"])])
    assert not refused.ok and refused.error.code == "unknown_lot" and refused.error.fields[0].field == "commissioners"
    # a procurement lead establishes one for the commissioners it names
    lead = Actor(id="j.okafor", org="NEL-CSU", role="procurement_lead")
    assert establish(ledger, "F-5", [k.Commissioner(org="ICB-SEL", kind="icb")], lead).ok


def test_a_later_framework_may_not_name_another_organisation_for_an_area_already_commissioned(ledger):
    assert establish(ledger, "F-6", [k.Commissioner(org="ICB-NCL", kind="icb", directorates=["Camden"])]).ok
    nel = Actor(id="c.nel", org="ICB-NEL", role="commissioner")
    before = ledger.max_position()
    # ICB-NEL names itself for Camden, whether as an area or as a directorate standing for one
    for entry in (k.Commissioner(org="ICB-NEL", kind="icb", areas=["camden "]), k.Commissioner(org="ICB-NEL", kind="icb", directorates=["Camden"])):
        taken = establish(ledger, "F-7", [entry], nel)
        assert not taken.ok and taken.error.code == "area_commissioned_by_another", taken
        assert "ICB-NCL" in taken.error.message
    assert ledger.max_position() == before
    # the organisation that commissions it may name it again, with others beside it for their own areas
    assert establish(ledger, "F-8", [k.Commissioner(org="ICB-NCL", kind="icb", areas=["Camden"]),
                                     k.Commissioner(org="ICB-NEL", kind="icb", areas=["Hackney"])]).ok


def test_the_directory_answers_while_other_threads_catch_up(ledger):
    """Readers iterate the frameworks while another thread adds some: never a changed dict (a 500 over HTTP)."""
    import sys
    import threading

    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                ledger.commissioning.of_home(local_authority="Camden", commissioning_area=None)
            except BaseException as err:  # noqa: BLE001 - any failure is the finding
                errors.append(err)
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads swap as often as they can, so a reader is mid-iteration when a catch-up lands
    for t in readers:
        t.start()
    try:
        for n in range(150):
            assert establish(ledger, f"F-T{n}", [k.Commissioner(org=f"ICB-T{n}", kind="icb", areas=[f"Area {n}"])],
                             Actor(id="c", org=f"ICB-T{n}", role="commissioner")).ok
    finally:
        stop.set()
        for t in readers:
            t.join()
        sys.setswitchinterval(switching)
    assert errors == []
    assert ledger.commissioning.holders_of("Area 149") == {"ICB-T149"}
