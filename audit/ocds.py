"""OCDS 1.1.5 publication: a release for each change the world is told of, and records compiled by
ocdsmerge, the standard's reference implementation.

    publication(ledger, prefix="ocds-aqp000") -> Publication
    Publication.releases (date order), .release_package(uri=...), .record_package(uri=...), .record(ocid)

**Which changes.** The ledger's own events, read through the ledger in notification order (never
a read model), of competitions and contracts. Each contracting process is one ocid,
`{prefix}-{competition reference}` (a contract names its competition; a call-off whose further
competition the ledger did not run still has one). Each event the world is told of is one release,
`{ocid}-{position}` (its notification id: unique, and the same on every export), dated when the
event was recorded, tagged with what it changed:

- `tender` (opened: title, lots, tender and enquiry periods, the procedure as `open`, `selective` or
  `limited` with its words in `procurementMethodDetails`), `tenderUpdate` (criteria first
  published as `awardCriteriaDetails`, documents with their SHA-256, notices, clarifications as
  `tender.enquiries` with the asker anonymised, how many tendered once the tenders are opened),
  `tenderAmendment` (criteria or a document published again: `tender.amendments` with the reason
  bidders were given), `tenderCancellation`;
- `award` per lot at the outcome letters (status `pending` through the standstill: who won, by the
  award notice) and `awardUpdate` (`active` at the award; `cancelled` where a challenge is upheld,
  the next round's award then `{ocid}-award-{lot}-{round}`); the award of lot L is
  `{ocid}-award-{lot}` in every release; its value is the lot's contracts' values;
- `contract` (`{ocid}-contract-{reference}`, in every release: awarded, its value, period and
  award), `contractUpdate` (signed), `contractAmendment` (each variation, extension or novation:
  `amendments[]` with the legal ground in `rationale` and the value change in `description`),
  `implementation` and `implementationUpdate` (a service contract's milestones and the payments
  against them as `transactions`), `contractTermination` (terminated, with its reason, or expired).

**What is never published.** Every event is read as `domain.access.PUBLIC` through
`domain.event_view` (the one redaction of every read of events): an event withheld from the world
gives nothing (a sealed tender before the opening, the evaluation's working, who asked a
clarification, ...), and personal data reads "[withheld]", so no value stored encrypted reaches a
release. Of what remains only the fields named here are published (`access.world_sees_bidder`: of
the outcome, the winners alone; nothing of scores, reasons, letters, challenges, mobilisation,
risks, escalation).

**Records.** `ocdsmerge.Merger` given the schema shipped beside this module (`ocds_schema/`: the
official 1.1.5 release schema, nothing fetched) compiles each ocid's releases (`compiled_release`,
the one path for ours and for ocdsmerge's own reference fixtures); a record embeds its releases.

**Notices.** Each notice the ledger records as published (`notice.publish` on a competition,
`contract.publish_notice` on a contract: `domain/procurement/notices.py` has the rules) is a
release of its own, tagged as Find a Tender tags that notice (`NOTICES`: UK4 `tender`, UK6
`award`, UK7 `contract`, UK10 `contractAmendment`, UK11 `contractTermination`; the PSR's notices
`award` and `awardUpdate`), the notice as a document (Find a Tender's reference as its id, the
UK extension's `noticeType` for a Procurement Act 2023 notice, the payload's SHA-256 where
recorded) on the contract, the awards or the tender it is about. `notice_payload(...)` generates
the release to send before publishing (`aqp ocds notice`), from the process as published so far.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from ocdsmerge import Merger

from domain import access
from domain.contracts.contract import Contract
from domain.contracts.modifications import GROUNDS
from domain.event_view import LedgerFacts, event_view
from domain.procurement.notices import COMPETITION_NOTICE_TYPES, CONTRACT_NOTICE_TYPES, uk_code
from domain.procurement.competition import Competition

DEFAULT_PREFIX = "ocds-aqp000"
SCHEMA_PATH = Path(__file__).resolve().parent / "ocds_schema" / "release-schema.json"
OCDS_VERSION = "1.1"
PUBLISHER = {"name": "AQP Ledger"}
#: the extensions our releases use, by the address of each extension.json (nothing is fetched)
LOTS_EXTENSION = "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json"
ENQUIRY_EXTENSION = "https://raw.githubusercontent.com/open-contracting-extensions/ocds_enquiry_extension/v1.1.5/extension.json"
#: the UK extension's `noticeType` on a document (Find a Tender's packages name it at this address);
#: declared only by packages whose releases carry a Procurement Act 2023 notice
UK_EXTENSION = "https://raw.githubusercontent.com/cabinetoffice/ocds_uk_extension/main/extension.json"
EXTENSIONS = (LOTS_EXTENSION, ENQUIRY_EXTENSION)

#: a procedure -> (OCDS procurementMethod, procurementMethodDetails)
PROCUREMENT_METHODS = {
    "open": ("open", "Open procedure"),
    "restricted": ("selective", "Restricted procedure"),
    "competitive_flexible": ("selective", "Competitive flexible procedure (Procurement Act 2023 s.20)"),
    "light_touch": ("open", "Light touch regime, open to all bidders (PCR 2015 reg 74-76)"),
    "psr_competitive": ("open", "Provider Selection Regime 2024 competitive process"),
    "call_off": ("selective", "Call-off by further competition among the framework's providers"),
}
#: a notice the ledger records (`domain/procurement/notices.py`) -> how its release is published:
#: (the release's tag, the notice document's OCDS type, the section the document goes in, its words).
#: Find a Tender tags a UK4 release "tender", a UK6 "award", a UK7 "contract", a UK10
#: "contractAmendment", a UK11 "contractTermination"; the UK extension's `noticeType` on the
#: notice's document says which notice it is (Procurement Act 2023 notices only).
NOTICES = {
    "future_opportunity": ("planning", "plannedProcurementNotice", "tender", "Planned procurement notice"),
    "contract_notice": ("tender", "tenderNotice", "tender", "Tender notice"),
    "award_notice": ("award", "awardNotice", "awards", "Contract award notice"),
    "psr_intention_to_award": ("award", "awardNotice", "awards", "Notice of intention to award (Provider Selection Regime)"),
    "psr_award_confirmation": ("awardUpdate", "awardNotice", "awards", "Notice confirming the award (Provider Selection Regime)"),
    "contract_details_notice": ("contract", "contractNotice", "contracts", "Contract details notice"),
    "contract_change_notice": ("contractAmendment", "contractNotice", "contracts", "Contract change notice"),
    "contract_termination_notice": ("contractTermination", "contractNotice", "contracts", "Contract termination notice"),
}
#: the Procurement Act 2023 notice types (Find a Tender) the ledger's notices are: UK3, UK4, UK6, UK7,
#: UK10 and UK11 (`domain.procurement.notices.UK_CODES`); a notice of an earlier regime has none

#: one merger for every compilation: our records and ocdsmerge's reference fixtures alike
MERGER = Merger(schema=str(SCHEMA_PATH))


def compiled_release(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """One contracting process's releases compiled by ocdsmerge (it orders them by date)."""
    return MERGER.create_compiled_release(releases)


# ---------------------------------------------------------------------------- values


def when(moment: datetime) -> str:
    """An RFC 3339 time in UTC, every one written alike (ocdsmerge orders releases by the text)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _day(text: str | None, *, end: bool = False) -> str | None:
    """A day as a time: its start, or (`end`) its last second, in UTC."""
    if not text:
        return None
    return f"{date.fromisoformat(text[:10]).isoformat()}T{'23:59:59' if end else '00:00:00'}Z"


def _instant(text: str | None) -> str | None:
    return None if not text else when(datetime.fromisoformat(text))


def money(pence: int) -> dict[str, Any]:
    """An amount in pence as an OCDS value in pounds."""
    return {"amount": pence / 100, "currency": "GBP"}


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else "+"
    return f"{sign}£{abs(pence) / 100:,.2f}"


# ---------------------------------------------------------------------------- one contracting process


@dataclass
class Process:
    """A contracting process as published so far: the state each release shows a part of."""

    ocid: str
    buyer: str | None = None
    parties: dict[str, dict[str, Any]] = field(default_factory=dict)
    tender: dict[str, Any] | None = None
    #: lot -> the lot's current award
    awards: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: lot -> how many awards of it were set aside (the next is a new round)
    rounds: dict[str, int] = field(default_factory=dict)
    #: contract reference -> contract
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the outcome's winners per lot, as the world is told them at the letters
    winners: dict[str, list[str]] = field(default_factory=dict)
    lot_values: dict[str, int] = field(default_factory=dict)
    #: contract reference -> its value in pence and its provider now
    contract_values: dict[str, int] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)

    def party(self, org: str, role: str) -> dict[str, str]:
        entry = self.parties.setdefault(org, {"id": org, "name": org, "roles": []})
        if role not in entry["roles"]:
            entry["roles"].append(role)
        return {"id": org, "name": org}

    def award_id(self, lot: str) -> str:
        number = self.rounds.get(lot, 0)
        return f"{self.ocid}-award-{lot}" + (f"-{number + 1}" if number else "")

    def award(self, lot: str) -> dict[str, Any]:
        if lot not in self.awards:
            self.awards[lot] = {"id": self.award_id(lot), "relatedLots": [lot]}
            if self.tender:
                title = next((x.get("title") for x in self.tender.get("lots", []) if x["id"] == lot), None)
                if title:
                    self.awards[lot]["title"] = title
        return self.awards[lot]

    def contract_id(self, reference: str) -> str:
        return f"{self.ocid}-contract-{reference}"


@dataclass
class Release:
    position: int
    ocid: str
    data: dict[str, Any]
    #: the reference of the notice this release publishes, if it is a notice's own release
    notice: str | None = None


def _release(process: Process, position: int, at: datetime, tags: list[str], **sections: Any) -> Release:
    data: dict[str, Any] = {
        "ocid": process.ocid,
        "id": f"{process.ocid}-{position}",
        "date": when(at),
        "tag": tags,
        "initiationType": "tender",
    }
    if process.parties:
        data["parties"] = [copy.deepcopy(p) for p in process.parties.values()]
    if process.buyer:
        data["buyer"] = {"id": process.buyer, "name": process.buyer}
    if "tender" in sections:
        data["tender"] = copy.deepcopy(process.tender)
    if "awards" in sections:
        data["awards"] = [copy.deepcopy(a) for a in sections["awards"]]
    if "contracts" in sections:
        data["contracts"] = [copy.deepcopy(c) for c in sections["contracts"]]
    return Release(position=position, ocid=process.ocid, data=data)


# ---------------------------------------------------------------------------- competitions


def _tender_release(p: Process, position: int, at: datetime, name: str, d: dict[str, Any], reason: str | None) -> Release | None:
    if name == "Opened":
        p.buyer = d["authority"]
        ref = p.party(d["authority"], "buyer")
        p.party(d["authority"], "procuringEntity")
        method, details = PROCUREMENT_METHODS.get(d["procedure"], ("open", d["procedure"]))
        p.tender = {
            "id": d["reference"],
            "title": d["title"],
            "status": "active",
            "procuringEntity": ref,
            "procurementMethod": method,
            "procurementMethodDetails": details,
            "mainProcurementCategory": "services",
            "tenderPeriod": {"startDate": when(at), "endDate": _instant(d["tender_deadline"])},
            "enquiryPeriod": {"startDate": when(at), "endDate": _instant(d["clarification_deadline"])},
            "lots": [
                {"id": lot["id"], "title": lot.get("name") or lot["id"], "status": "active"} for lot in d["lots"]
            ],
        }
        return _release(p, position, at, ["tender"], tender=True)
    if p.tender is None:
        return None
    tender = p.tender
    if name == "CriteriaPublished":
        tender["awardCriteria"] = "ratedCriteria"
        tender["awardCriteriaDetails"] = "; ".join(_criterion(c) for c in d["criteria"])
        if d["version"] == 1:
            return _release(p, position, at, ["tenderUpdate"], tender=True)
        _amend(tender, f"{tender['id']}-criteria-{d['version']}", at, reason, f"Evaluation criteria published again (version {d['version']}).")
        return _release(p, position, at, ["tenderAmendment"], tender=True)
    if name == "DocumentPublished":
        documents = tender.setdefault("documents", [])
        existing = next((x for x in documents if x["id"] == d["document"]), None)
        entry = existing or {"id": d["document"], "documentType": "biddingDocuments", "datePublished": when(at)}
        entry.update(
            title=d["title"],
            dateModified=when(at),
            description=f"SHA-256 {d['sha256']}, {d['size_bytes']} bytes (revision {d['revision']}).",
        )
        if existing is None:
            documents.append(entry)
        if d["revision"] == 1:
            return _release(p, position, at, ["tenderUpdate"], tender=True)
        _amend(tender, f"{tender['id']}-{d['document']}-{d['revision']}", at, reason, f"{d['title']} published again (revision {d['revision']}).")
        return _release(p, position, at, ["tenderAmendment"], tender=True)
    if name == "NoticePublished":
        return _notice_release(p, position, at, d)
    if name == "ClarificationAnswered":
        tender["hasEnquiries"] = True
        # Published to all bidders as the authority worded it: who asked is never said.
        tender.setdefault("enquiries", []).append(
            {
                "id": d["clarification"],
                "date": when(at),
                "title": d["published_question"][:200],
                "description": d["published_question"],
                "answer": d["answer"],
                "dateAnswered": when(at),
            }
        )
        return _release(p, position, at, ["tenderUpdate"], tender=True)
    if name == "TendersOpened":
        tender["numberOfTenderers"] = len(d["bidders"])
        return _release(p, position, at, ["tenderUpdate"], tender=True)
    if name == "Cancelled":
        tender["status"] = "cancelled"
        for lot in tender.get("lots", []):
            lot["status"] = "cancelled"
        changed = []
        for award in p.awards.values():
            if award.get("status") == "pending":
                award["status"] = "cancelled"
                changed.append(award)
        if changed:
            return _release(p, position, at, ["tenderCancellation", "awardUpdate"], tender=True, awards=changed)
        return _release(p, position, at, ["tenderCancellation"], tender=True)
    return None


def _criterion(c: dict[str, Any]) -> str:
    words = f"{c.get('title') or c['id']}: weight {c['weight']}%, scored 0 to {c['max_score']}"
    return words + (f", pass mark {c['pass_mark']}" if c.get("pass_mark") is not None else "")


def _amend(section: dict[str, Any], amendment: str, at: datetime, reason: str | None, description: str) -> None:
    entry = {"id": amendment, "date": when(at), "description": description}
    if reason:
        entry["rationale"] = reason
    section.setdefault("amendments", []).append(entry)


def _award_release(p: Process, position: int, at: datetime, name: str, d: dict[str, Any]) -> Release | None:
    if name == "OutcomeDecided":
        # The outcome names every bidder with its scores: the world learns only who won (at the letters).
        p.winners = {
            lot: [b for b in result["successful"] if access.world_sees_bidder(b, successful=result["successful"])]
            for lot, result in d["lots"].items()
        }
        return None
    if name == "OutcomeLettersIssued":
        changed = []
        for lot, winners in sorted(p.winners.items()):
            if not winners:
                continue
            award = p.award(lot)
            award.update(status="pending", date=when(at), suppliers=[p.party(w, "supplier") for w in winners])
            changed.append(award)
        return _release(p, position, at, ["award"], awards=changed) if changed else None
    if name == "ChallengeResolved" and d["outcome"] == "upheld":
        changed = []
        for lot, award in list(p.awards.items()):
            if award.get("status") == "pending":
                award["status"] = "cancelled"
                changed.append(award)
                p.rounds[lot] = p.rounds.get(lot, 0) + 1
                del p.awards[lot]
        return _release(p, position, at, ["awardUpdate"], awards=changed) if changed else None
    if name == "AwardConcluded":
        changed = []
        for lot, winners in sorted(d["awards"].items()):
            if not winners:
                continue
            award = p.award(lot)
            award.update(status="active", date=when(at), suppliers=[p.party(w, "supplier") for w in winners])
            changed.append(award)
        if p.tender is not None:
            p.tender["status"] = "complete"
            for lot in p.tender.get("lots", []):
                lot["status"] = "complete" if lot["id"] in d["awards"] and d["awards"][lot["id"]] else "unsuccessful"
        return _release(p, position, at, ["awardUpdate", "tenderUpdate"], tender=True, awards=changed) if changed else None
    return None


# ---------------------------------------------------------------------------- contracts


def _contract_release(p: Process, position: int, at: datetime, name: str, d: dict[str, Any], reference: str, actor_org: str | None) -> Release | None:
    if name == "Awarded":
        if p.buyer is None and actor_org:
            p.buyer = actor_org
            p.party(actor_org, "buyer")
        lot = d["lot"]
        award = p.award(lot)
        tags = ["contract", "awardUpdate" if award.get("status") else "award"]
        if not award.get("status"):
            # A call-off the ledger did not run the competition of: the award is the contract's.
            award.update(status="active", date=when(at))
        suppliers = award.setdefault("suppliers", [])
        supplier = p.party(d["provider"], "supplier")
        if supplier not in suppliers:
            suppliers.append(supplier)
        p.lot_values[lot] = p.lot_values.get(lot, 0) + d["value"]
        p.contract_values[reference] = d["value"]
        p.providers[reference] = d["provider"]
        award["value"] = money(p.lot_values[lot])
        p.contracts[reference] = {
            "id": p.contract_id(reference),
            "awardID": award["id"],
            "title": f"{reference}",
            "status": "pending",
            "value": money(d["value"]),
            "period": {"startDate": _day(d["starts_on"]), "endDate": _day(d["ends_on"], end=True)},
        }
        return _release(p, position, at, tags, awards=[award], contracts=[p.contracts[reference]])
    contract = p.contracts.get(reference)
    if contract is None:
        return None
    if name == "NoticePublished":
        return _notice_release(p, position, at, d, contract=reference)
    if name == "Signed":
        contract.update(status="active", dateSigned=_day(d["signed_on"]))
        return _release(p, position, at, ["contractUpdate"], contracts=[contract])
    if name == "Varied":
        ground = GROUNDS.get(d["ground"])
        before = contract["value"]["amount"]
        p.contract_values[reference] += d["value_change"]
        contract["value"] = money(p.contract_values[reference])
        _amend(
            contract,
            f"{contract['id']}-variation-{d['number']}",
            at,
            f"{d['ground']} ({ground.title if ground else 'ground'}): {d['rationale']}",
            f"{d['kind'].replace('_', ' ').capitalize()} from {d['effective_from']}: value change {_pounds(d['value_change'])}, "
            f"from £{before:,.2f} to £{contract['value']['amount']:,.2f}.",
        )
        return _release(p, position, at, ["contractAmendment"], contracts=[contract])
    if name == "Extended":
        before = contract["value"]["amount"]
        p.contract_values[reference] += d["value_change"]
        contract["value"] = money(p.contract_values[reference])
        contract["period"]["endDate"] = _day(d["new_end"], end=True)
        _amend(
            contract,
            f"{contract['id']}-extension-{position}",
            at,
            f"Extension provided for by the framework: {d['rationale']}",
            f"Extended by {d['months']} month(s) to {d['new_end']}: value change {_pounds(d['value_change'])}, "
            f"from £{before:,.2f} to £{contract['value']['amount']:,.2f}.",
        )
        return _release(p, position, at, ["contractAmendment"], contracts=[contract])
    if name == "Novated":
        p.party(d["to_provider"], "supplier")
        p.providers[reference] = d["to_provider"]
        _amend(
            contract,
            f"{contract['id']}-novation-{position}",
            at,
            "Novation: a new provider takes over the contract (a permitted modification).",
            f"Novated from {d['from_provider']} to {d['to_provider']} from {d['effective_from']}: value change {_pounds(0)}.",
        )
        return _release(p, position, at, ["contractAmendment"], contracts=[contract])
    if name in ("Terminated", "Expired"):
        contract["status"] = "terminated"
        if name == "Terminated":
            contract["period"]["endDate"] = _day(d["effective_on"], end=True)
            contract["description"] = f"Terminated ({d['reason_kind'].replace('_', ' ')}) with effect from {d['effective_on']}."
        else:
            contract["description"] = f"Expired at the end of its term on {d['ended_on']}."
        return _release(p, position, at, ["contractTermination"], contracts=[contract])
    implementation = contract.setdefault("implementation", {})
    if name == "MilestoneAdded":
        implementation.setdefault("milestones", []).append(
            {
                "id": d["milestone"],
                "title": d["title"],
                "type": "delivery",
                "description": f"{d['phase']}: payment on acceptance {_pounds(d['payment'])[1:]}.",
                "dueDate": _day(d["final_due"], end=True),
                "status": "scheduled",
            }
        )
        return _release(p, position, at, ["implementation"], contracts=[contract])
    if name == "MilestoneAccepted":
        for milestone in implementation.get("milestones", []):
            if milestone["id"] == d["milestone"]:
                milestone.update(status="met", dateMet=_day(d["accepted_on"]), dateModified=when(at))
        return _release(p, position, at, ["implementationUpdate"], contracts=[contract])
    if name == "PaymentRecorded":
        transaction = {"id": d["payment"], "date": _day(d["paid_on"]), "value": money(d["amount"]), "source": d["milestone"]}
        if p.buyer:
            transaction["payer"] = p.party(p.buyer, "payer")
        transaction["payee"] = p.party(p.providers[reference], "payee")
        implementation.setdefault("transactions", []).append(transaction)
        return _release(p, position, at, ["implementation"], contracts=[contract])
    return None


# ---------------------------------------------------------------------------- the ledger's events

COMPETITION_EVENTS = (
    Competition.Opened, Competition.CriteriaPublished, Competition.DocumentPublished, Competition.NoticePublished,
    Competition.ClarificationAnswered, Competition.TendersOpened, Competition.OutcomeDecided,
    Competition.OutcomeLettersIssued, Competition.ChallengeResolved, Competition.AwardConcluded, Competition.Cancelled,
)
CONTRACT_EVENTS = (
    Contract.Awarded, Contract.Signed, Contract.Varied, Contract.Extended, Contract.Novated, Contract.Terminated,
    Contract.Expired, Contract.MilestoneAdded, Contract.MilestoneAccepted, Contract.PaymentRecorded,
    Contract.NoticePublished,
)
TOPICS = tuple(cls.TOPIC for cls in (*COMPETITION_EVENTS, *CONTRACT_EVENTS))
_PAGE = 500


def _events(ledger: Any) -> Iterator[tuple[int, Any]]:
    """(position, event) for every event publication draws on, in notification order."""
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=_PAGE, topics=TOPICS)
        for notification in page:
            yield notification.id, ledger.mapper.to_domain_event(notification)
        if len(page) < _PAGE:
            return
        start = page[-1].id + 1


@dataclass
class Publication:
    """Every release the ledger publishes, by process; records compiled on demand."""

    prefix: str
    processes: dict[str, Process]
    releases: list[Release]

    def ocid(self, competition: str) -> str:
        return f"{self.prefix}-{competition}"

    def by_ocid(self, ocid: str) -> list[dict[str, Any]]:
        return [r.data for r in self.releases if r.ocid == ocid]

    def since(self, moment: datetime | None) -> list[Release]:
        if moment is None:
            return list(self.releases)
        cut = when(moment)
        return [r for r in self.releases if r.data["date"] >= cut]

    def release_package(self, *, uri: str, published: datetime, releases: Iterable[Release] | None = None) -> dict[str, Any]:
        chosen = [r.data for r in (self.releases if releases is None else releases)]
        return _package(uri, published, "releases", chosen, self.extensions_used(chosen))

    def record(self, ocid: str) -> dict[str, Any] | None:
        releases = self.by_ocid(ocid)
        if not releases:
            return None
        return {"ocid": ocid, "releases": releases, "compiledRelease": compiled_release(releases)}

    def record_package(
        self, *, uri: str, published: datetime, ocids: Iterable[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """The records of `ocids` (default: every process), each compiled from all its releases."""
        wanted = list(self.processes) if ocids is None else list(ocids)
        records = []
        for n, ocid in enumerate(wanted, 1):
            record = self.record(ocid)
            if record is not None:
                records.append(record)
            if progress:
                progress(n, len(wanted))
        return _package(uri, published, "records", records, self.extensions_used([x for r in records for x in r["releases"]]))

    def notices_published(self) -> dict[str, str]:
        """Release id -> the reference of the notice it publishes, for the notices' own releases."""
        return {r.data["id"]: r.notice for r in self.releases if r.notice}

    @staticmethod
    def extensions_used(releases: list[dict[str, Any]]) -> list[str]:
        used = [LOTS_EXTENSION] if any("lots" in r.get("tender", {}) for r in releases) else []
        if any("enquiries" in r.get("tender", {}) for r in releases):
            used.append(ENQUIRY_EXTENSION)
        if any(d.get("noticeType") for r in releases for d in _documents(r)):
            used.append(UK_EXTENSION)
        return used


def _documents(release: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every document of a release: the tender's, each award's and each contract's."""
    yield from release.get("tender", {}).get("documents", [])
    for section in (*release.get("awards", []), *release.get("contracts", [])):
        yield from section.get("documents", [])


def _package(uri: str, published: datetime, key: str, items: list[dict[str, Any]], extensions: list[str]) -> dict[str, Any]:
    package: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": when(published),
        "publisher": dict(PUBLISHER),
    }
    if extensions:
        package["extensions"] = extensions
    package[key] = items
    return package


def publication(ledger: Any, *, prefix: str = DEFAULT_PREFIX) -> Publication:
    """Every release of every contracting process, from the ledger's events as the world may see them."""
    facts = LedgerFacts(ledger)
    competitions: dict[Any, str] = {}
    contracts: dict[Any, tuple[str, str]] = {}
    processes: dict[str, Process] = {}
    releases: list[Release] = []
    for position, event in _events(ledger):
        shown = event_view(event, access.PUBLIC, facts)
        if shown["data"] is None:
            continue  # withheld from the world: it gives nothing
        data = shown["data"]
        name = type(event).__name__
        if isinstance(event, Competition.Event):
            if name == "Opened":
                competitions[event.originator_id] = data["reference"]
            competition = competitions.get(event.originator_id) or ledger.repository.get(event.originator_id).reference
            process = processes.setdefault(f"{prefix}-{competition}", Process(ocid=f"{prefix}-{competition}"))
            release = _tender_release(process, position, event.timestamp, name, data, shown["reason"]) or _award_release(
                process, position, event.timestamp, name, data
            )
        else:
            reference, competition = _contract_of(ledger, event, data, contracts)
            process = processes.setdefault(f"{prefix}-{competition}", Process(ocid=f"{prefix}-{competition}"))
            org = (shown["actor"] or {}).get("org")
            release = _contract_release(process, position, event.timestamp, name, data, reference, org)
        if release is not None:
            if name == "NoticePublished":
                release.notice = data["notice_reference"]
            releases.append(release)
    # Date order (ocdsmerge's), ties in the order recorded.
    releases.sort(key=lambda r: (r.data["date"], r.position))
    return Publication(prefix=prefix, processes=processes, releases=releases)


def _contract_of(ledger: Any, event: Any, data: dict[str, Any], known: dict[Any, tuple[str, str]]) -> tuple[str, str]:
    """The contract's reference and its competition's, from its first event (which names both)."""
    if isinstance(event, Contract.Awarded):
        known[event.originator_id] = (data["reference"], data["competition"])
    if event.originator_id not in known:
        contract = ledger.repository.get(event.originator_id, version=1)
        known[event.originator_id] = (contract.reference, contract.competition)
    return known[event.originator_id]


# ---------------------------------------------------------------------------- notices


def _notice_document(d: dict[str, Any]) -> dict[str, Any]:
    """A notice as the document its release carries: Find a Tender's reference as its id and,
    for a Procurement Act 2023 notice, the UK extension's `noticeType` (UK6, ...)."""
    _, document_type, _, words = NOTICES[d["notice_type"]]
    document: dict[str, Any] = {
        "id": d["notice_reference"],
        "documentType": document_type,
        "title": words,
        "datePublished": _day(d["published_on"]),
    }
    if d.get("notice_code"):
        document["noticeType"] = d["notice_code"]
    said = []
    if d.get("modification"):
        said.append(f"Announces modification {d['modification']}.")
    if d.get("payload_sha256"):
        said.append(f"The payload published has SHA-256 {d['payload_sha256']}.")
    if said:
        document["description"] = " ".join(said)
    return document


def _with_document(section: dict[str, Any], document: dict[str, Any]) -> None:
    documents = section.setdefault("documents", [])
    documents[:] = [x for x in documents if x["id"] != document["id"]] + [document]


def _notice_release(p: Process, position: int, at: datetime, d: dict[str, Any], *, contract: str | None = None) -> Release | None:
    """The release of a notice published: tagged as Find a Tender tags that notice, its document in
    the section it is about (the contract, the awards, else the tender), with the state it tells of."""
    if d["notice_type"] not in NOTICES:
        return None
    tag, _, section, _ = NOTICES[d["notice_type"]]
    document = _notice_document(d)
    contracts = [p.contracts[contract]] if contract else list(p.contracts.values())
    if section == "contracts" and contracts:
        for entry in contracts:
            _with_document(entry, document)
        return _release(p, position, at, [tag], contracts=contracts)
    if section in ("contracts", "awards") and p.awards:
        awards = list(p.awards.values())
        for entry in awards:
            _with_document(entry, document)
        return _release(p, position, at, [tag], awards=awards)
    if p.tender is None:
        return None
    _with_document(p.tender, document)
    return _release(p, position, at, [tag], tender=True)


def notice_payload(
    ledger: Any,
    *,
    notice_type: str,
    published_on: date,
    at: datetime,
    competition: str | None = None,
    contract: str | None = None,
    modification: str | None = None,
    prefix: str = DEFAULT_PREFIX,
    published: Publication | None = None,
) -> dict[str, Any]:
    """The release a notice the law requires publishes, generated from the ledger before it is sent
    (to Find a Tender, which answers with the notice's reference): the contracting process as the
    world may see it now, with the notice as its document. Its canonical bytes
    (`audit.verifier.digest.canonical`) are what is sent; their SHA-256 is recorded with the
    publication (`payload_sha256`), so the payload can later be shown to be the one published.

    `published`: the publication as it stands, where the caller holds it (else it is read).
    Raises ValueError, in words for the person asking, for a notice that is not of that record."""
    if (competition is None) == (contract is None):
        raise ValueError("A notice is about one competition or one contract: name exactly one.")
    allowed = CONTRACT_NOTICE_TYPES if contract else COMPETITION_NOTICE_TYPES
    if notice_type not in allowed:
        raise ValueError(f"A {'contract' if contract else 'competition'}'s notice type is one of {', '.join(allowed)}, not {notice_type!r}.")
    if notice_type == "contract_change_notice" and not modification:
        raise ValueError("A contract change notice names the modification it announces (Procurement Act 2023 s.75(3)).")
    published = published or publication(ledger, prefix=prefix)
    if contract:
        regime = ledger.aggregate(Contract, contract).regime
        process = next((x for x in published.processes.values() if contract in x.contracts), None)
    else:
        regime = ledger.competition(competition).standstill_regime
        process = published.processes.get(published.ocid(competition))
    if process is None:
        raise ValueError(f"Nothing of {contract or competition} is published yet: its notice has no contracting process to tell of.")
    process = copy.deepcopy(process)  # the payload tells of the process; it does not change what is published
    notice = {
        "notice_type": notice_type,
        "notice_reference": f"{process.ocid}-{notice_type}-{published_on.isoformat()}" + (f"-{modification}" if modification else ""),
        "published_on": published_on.isoformat(),
        "notice_code": uk_code(notice_type, regime),
        "modification": modification,
    }
    release = _notice_release(process, 0, at, notice, contract=contract)
    if release is None:
        raise ValueError(f"{competition or contract} has no tender published yet for its notice to tell of.")
    release.data["id"] = f"{process.ocid}-notice-{notice['notice_reference'].removeprefix(process.ocid + '-')}"
    return release.data
