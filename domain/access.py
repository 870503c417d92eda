"""Who may do and see what: the role groups, the command check and every read policy.

This is the one place the ledger decides it; the handlers name the group that may send each
command, the views and the HTTP API ask the policies below, and the HTTP route matrix is
built from the same groups. The policy, in words:

**Sending commands.** Every command names the group of roles that may send it, and the
dispatcher refuses anyone else (`require_role`, `not_permitted`: 403 over HTTP).
- Procurement leads run a competition: open it, publish its criteria, documents and notices,
  answer clarification questions, open the tenders, appoint and train evaluators, moderate
  scores, record guarantees, issue evaluation clarifications, decide the outcome, issue the
  letters, record and resolve challenges, conclude the award or cancel. With evaluators they
  record compliance checks; with commissioners they establish frameworks.
- Providers, as bidders, ask clarification questions, submit and withdraw tenders and answer
  evaluation clarifications; as homes (the home itself or its head office, and only for a
  home it runs) they report vacancies and home-care availability, suspend and lift
  placements, submit and amend returns and placement returns.
- Evaluators declare their conflicts of interest, score tenders and assess finances.
- Commissioners and contract managers commission, each only what their organisation
  commissions (`require_commissioner`, "who commissions what" below): framework prices, signing, mobilising,
  homes, variations, novations, extensions, referrals, escalation, action plans,
  termination, milestones and payments of contracts; a home's category, commissioning area
  and concerns; reviews of returns; spot checks of returns' data (`SPOT_CHECKERS`: the
  Council verifies submitted data, seed 003 s.3.6 b, never the provider itself); quality visits.
- On a contract a provider (only its own contract) or a contract manager submits
  deliverables and highlight reports and notifies a change of control; commissioners,
  contract managers and providers keep its risks.
- The system (the award and expiry processes), contract managers and procurement leads award
  and expire contracts; the system and contract managers record missed returns and
  performance failures; the system and admins import CQC data; providers, contract managers
  and admins keep a home's contacts; commissioners, contract managers and admins publish
  return templates and KPI sets; admins erase personal data.
- The scheduler (`SCHEDULER`, a system principal of the ledger itself) records returns missed
  at their deadlines and alone raises due items (`SCHEDULERS`: reminders, reporting links,
  escalation, action-plan, standstill, expiry and extension dates); nobody else may.

**Seeing records.** What a principal may not see is absent to them (404 over HTTP).
- A provider sees only its own organisation's records: the contracts it holds, itself as a
  provider, the homes it runs (as the home, or as their head office) and their returns and
  rows in the read models (`may_deal_with`); lists that aggregate across homes are not for
  providers at all (`AGGREGATE_READERS`).
- Tenders are sealed until the competition's tenders are opened: before, the authority sees
  only how many arrived and a bidder only its own (`tenders_sealed_to`, `sees_tender_of`);
  in the events feed they, and who sent them, are sealed to everybody, auditors included.
- The evaluation's working (evaluators, declarations, compliance, individual and moderated
  scores, finances, guarantees, evaluation clarifications) and who asked a clarification
  question are for procurement leads, auditors and admins (`reads_evaluation`). Bidders see
  their own questions, others' only as published with the answer; commissioners, contract
  managers and the rest see the decision, not the working.
- An evaluator sees the evaluation only of a competition on whose panels they sit, appointed
  with their organisation, and then never a bidder they declared a conflict with, others'
  individual scores only once moderated, no running totals (`panel_seat`, `PanelSeat`).
- Concerns shared about a home are for its own commissioners and contract managers, auditors
  and admins (`sees_concerns_of_home`; on a list across homes, how many are open: the roles of
  `sees_concerns`); the personal data of a home's people (contacts, registered managers) for
  those who deal with the home (its own commissioners and contract managers, the provider),
  auditors and admins (`sees_people_of_home`). Who commissions what: below.
- The events feed is for everybody but providers and evaluators (`FEED_READERS`), and holds
  nothing of a competition absent to its reader (`ANOTHER_AUTHORITYS`); the event
  index, naming who did what and whom it concerns, for auditors, FOI officers and admins;
  proof bundles (raw stored records) for auditors and admins. Every read of events, each of
  these, CSV and `as_of` included, redacts each event by the rules above, the same way
  (`withheld_from_feed`, applied by `domain.event_view`): where an event's content is
  withheld, so are who did it and every value its client chose (request ids, reason), and a
  proof bundle keeps only the leaf's hash and place (`sees_stored_record`). A sealed tender
  is withheld so from everybody until the opening; the evaluation's working, with who did
  it, from all but the evaluation's readers: to FOI officers evaluators' identities are
  personal data until a person releases them (`identifies_evaluators`).
- An FOI request is its authority's alone: only the FOI officers and admins of the
  organisation that received it record anything on it or read it, the requester's name and
  address included (`handles_foi_request`, `sees_requester`); to anybody else, another
  authority's FOI officer included, it is absent, and in every read of events its content
  and who recorded it are withheld (`FOI_CASE`).
- An FOI extract (`audit.foi_extract`) is for auditors, FOI officers and admins
  (`may_extract`); it releases what the feed would give them except sealed tenders and other
  authorities' competitions (`released_in_extract`), redacted for the world by the FOI
  redaction policy, which is data (`domain.foi_redaction`: personal data, unsuccessful bidders'
  prices and tender contents, evaluators unless released: `discloses_evaluators`).

Pure: nothing here reads a store or a clock; the callers give the facts (the viewer, the
organisations a record is of, whether the tenders are opened).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from domain.kernel.errors import NotPermitted
from domain.kernel.metadata import ROLES, Actor


# ---------------------------------------------------------------------------- who sends commands

PROCUREMENT_LEAD = ("procurement_lead",)
PROVIDER = ("provider",)
EVALUATOR = ("evaluator",)
ADMIN = ("admin",)
#: compliance checks: the lead, or an evaluator on the compliance panel
LEAD_OR_EVALUATOR = ("procurement_lead", "evaluator")
FRAMEWORK_ESTABLISHERS = ("commissioner", "procurement_lead")
#: those who commission and manage contracts, homes and visits
COMMISSIONING = ("commissioner", "contract_manager")
#: the Council's spot checks of the data in a home's returns (seed 003 s.3.6 b): its commissioners
#: and contract managers, never the provider whose data it is
SPOT_CHECKERS = COMMISSIONING
#: the award and expiry processes (the system), or a person doing it by hand
CONTRACT_AWARDERS = ("system", "contract_manager", "procurement_lead")
#: the provider reports on its own contract; the contract manager may record on its behalf
PROVIDER_OR_MANAGER = ("provider", "contract_manager")
RISK_KEEPERS = ("commissioner", "contract_manager", "provider")
#: FOI requests, each only by its own authority's (`handles_foi_request`)
FOI_OFFICERS = ("foi_officer", "admin")
#: the daily CQC sync (the system) and admins
CQC_IMPORTERS = ("system", "admin")
#: the CMS team manages providers' changes of contact details (seed 000 s.6.1.3)
CONTACT_KEEPERS = ("provider", "contract_manager", "admin")
#: return templates and KPI sets
PUBLISHERS = ("commissioner", "contract_manager", "admin")
#: the scheduler and the performance process (the system), or a contract manager
RECORDERS = ("system", "contract_manager")
#: due items (reminders, reporting links, due dates) are raised by the scheduler alone
SCHEDULERS = ("system",)
#: past notices from other publishers' OCDS (Contracts Finder): taken in by the system and admins
#: (the CLI's import), and by procurement leads, who look back at how a service was bought before
PAST_NOTICE_IMPORTERS = ("system", "admin", "procurement_lead")


#: the scheduler's principal: the ledger's own process, not a person nor an organisation's
SCHEDULER = Actor(id="process:scheduler", org="aqp-ledger", role="system")


# ---------------------------------------------------------------------------- who reads what

ALL_ROLES: tuple[str, ...] = tuple(ROLES)
#: past notices are public data (Crown copyright under the Open Government Licence): every role reads them
PAST_NOTICE_READERS = ALL_ROLES
#: everybody but evaluators, who need the bids of their panels, not contracts or returns
NOT_EVALUATORS = tuple(r for r in ROLES if r != "evaluator")
#: monitoring about homes (returns, compliance, quality, exceptions): those who commission
#: and manage the contracts, the homes themselves (their own rows only), auditors, FOI
#: officers, admins and the system
MONITORING_READERS = ("commissioner", "contract_manager", "provider", "auditor", "foi_officer", "admin", "system")
#: aggregates across homes and commissioners (areas, usage, RAG tables): not providers, whose
#: rows would be other homes' figures
AGGREGATE_READERS = tuple(r for r in MONITORING_READERS if r != "provider")
#: the event index names who did what and whom it concerns: for audit and FOI
INDEX_READERS = ("auditor", "foi_officer", "admin")
#: a proof bundle holds the event's stored bytes, unredacted
PROOF_READERS = ("auditor", "admin")
#: an FOI extract (every record about a competition, contract, provider or person, redacted
#: for release to the world by `domain.foi_redaction`): those who read the event index
EXTRACT_READERS = INDEX_READERS
#: the events feed: not providers (who see only their own organisation's records) and not
#: evaluators (who see only the bids of their panels)
FEED_READERS = ("procurement_lead", "contract_manager", "commissioner", "auditor", "foi_officer", "admin", "system")
#: the whole evaluation, its working and who asked what
EVALUATION_READERS = ("procurement_lead", "auditor", "admin")
#: concerns shared with commissioners about a home
CONCERN_READERS = ("commissioner", "contract_manager", "auditor", "admin")
#: the personal data of a home's people (contacts, registered managers): those who deal with
#: the home (its commissioners and contract managers, the provider itself, limited to its own
#: homes by `may_deal_with`), the auditors and the admins; not evaluators, procurement
#: leads, FOI officers (who extract redacted records) or other systems
PERSONAL_DATA_READERS = ("commissioner", "contract_manager", "provider", "auditor", "admin")


# ---------------------------------------------------------------------------- the command check


def require_role(actor: Actor, allowed: tuple[str, ...], action: str) -> None:
    """Refuse (`not_permitted`) an actor whose role is not one of `allowed`."""
    if actor.role not in allowed:
        raise NotPermitted(
            f"A {actor.role.replace('_', ' ')} may not {action}; this needs one of: {', '.join(allowed)}.",
            code="not_permitted",
        )


# ---------------------------------------------------------------------------- own organisation


def sees_only_its_own(viewer: Actor) -> bool:
    """A provider deals only with its own organisation's records (every other role: all of them)."""
    return viewer.role == "provider"


def may_deal_with(actor: Actor, *orgs: str) -> bool:
    """Whether `actor` may see, or act on, a record of any of `orgs` (a provider: only its own)."""
    return not sees_only_its_own(actor) or actor.org in orgs


# ---------------------------------------------------------------------------- procurement


def reads_evaluation(viewer: Actor) -> bool:
    """Procurement leads, auditors and admins see the whole evaluation and who asked what."""
    return viewer.role in EVALUATION_READERS


def evaluates(viewer: Actor) -> bool:
    """An evaluator sees the evaluation of the panels they sit on only (`panel_seat`)."""
    return viewer.role == "evaluator"


def may_ask_for_evaluation(viewer: Actor) -> bool:
    """Who may ask for an evaluation trail at all (an evaluator then only of their panels')."""
    return reads_evaluation(viewer) or evaluates(viewer)


def sees_asker(viewer: Actor, asked_by: str) -> bool:
    """Who asked a clarification question: the evaluation's readers, and the bidder who asked it."""
    return reads_evaluation(viewer) or asked_by == viewer.org


def tenders_sealed_to(viewer: Actor, *, opened: bool) -> bool:
    """Before the opening the authority knows only how many tenders arrived (a bidder sees its own)."""
    return not opened and not sees_only_its_own(viewer)


def sees_tender_of(viewer: Actor, bidder: str) -> bool:
    """A bidder sees only its own tender and what concerns it (letters, challenges, clarifications)."""
    return may_deal_with(viewer, bidder)


@dataclass(frozen=True)
class PanelSeat:
    """An evaluator on a competition's panels, and the bidders they declared a conflict with."""

    evaluator: str
    conflicted: frozenset[str]

    def sees_bidder(self, bidder: str) -> bool:
        """Nothing of a bidder they declared a conflict with reaches them."""
        return bidder not in self.conflicted

    def sees_score(self, *, bidder: str, evaluator: str, moderated: bool) -> bool:
        """Their own individual scores; others' only once the panel has moderated the criterion."""
        return self.sees_bidder(bidder) and (evaluator == self.evaluator or moderated)

    def sees_figures(self, *, moderated: bool) -> bool:
        """A cell's spread and agreed score, beside their own score, would tell the others': only once moderated."""
        return moderated


def panel_seat(viewer: Actor, *, appointed_with: str | None, conflicts: Iterable[str]) -> PanelSeat | None:
    """The viewer's seat on the panels, or None: not an evaluator, or not appointed with this organisation.

    `appointed_with` is the organisation the viewer was appointed with (None: not appointed);
    `conflicts` the bidders they declared a conflict with.
    """
    if not evaluates(viewer) or appointed_with is None or appointed_with != viewer.org:
        return None
    return PanelSeat(evaluator=viewer.id, conflicted=frozenset(conflicts))


# ---------------------------------------------------------------------------- homes and people


def sees_concerns(viewer: Actor) -> bool:
    """Whether the viewer's role reads concerns at all: on a list across homes, how many are open."""
    return viewer.role in CONCERN_READERS


def sees_personal_data(viewer: Actor) -> bool:
    """Whether the viewer's role reads a home's people's personal data at all (of which home: below)."""
    return viewer.role in PERSONAL_DATA_READERS


def sees_concerns_of_home(viewer: Actor, *, commissioners: Iterable[str]) -> bool:
    """A concern's text: the home's own commissioners and contract managers, auditors and admins."""
    return sees_concerns(viewer) and commissions(viewer, commissioners)


def sees_people_of_home(viewer: Actor, *, commissioners: Iterable[str]) -> bool:
    """A home's contacts and registered managers: its commissioners and contract managers, the
    provider that runs it (`may_deal_with`, asked by the caller), auditors and admins."""
    return sees_personal_data(viewer) and commissions(viewer, commissioners)


# ---------------------------------------------------------------------------- who commissions what
#
# Commissioners and contract managers work for their organisation's commissioning: an ICB for
# the homes in its boroughs and the contracts of its lot, a council for the homes in its area.
# What the records say of who commissions what is `domain.commissioning` (a framework's
# commissioners with their lots and areas, a contract's lot, a home's local authority and
# commissioning area); here is what follows from it:
#
# - Changes only where you commission: a contract's (sign, vary, escalate, terminate, its
#   risks, failures, ...) by its commissioners of its lot; a home's (category, commissioning
#   area, concerns, contacts, reviews of its returns, quality visits, missed returns) by the
#   home's commissioners; a framework's prices by its commissioners; a commissioner
#   establishes only a framework it is one of the commissioners of. Anybody else is refused
#   (`not_your_commission`, 403: the record itself is not secret) and nothing is recorded.
#   A home no commissioner's area holds may be taken on by a commissioner giving it a
#   commissioning area that is one of its own areas (an out-of-area placement); an area one
#   organisation commissions is not named for another by a later framework.
# - Concern text, and the names and contact details of a home's people, only to the home's own
#   commissioners and contract managers (with the provider itself for its people, auditors and
#   admins): on the home's page, in the events feed and wherever else they are read.
# - Everything else stays readable by every commissioner: contracts, homes' public facts and
#   the pan-framework aggregates (the CMS list, dashboards, KPIs, the seeds' pan-London view).
#
# Procurement leads, providers, evaluators and the oversight roles are not scoped by area:
# their scopes are the competition's authority, their own organisation, and their panels.


def commissions(actor: Actor, commissioners: Iterable[str]) -> bool:
    """Whether the actor may act as one of the record's commissioners (roles that do not commission are not scoped by area)."""
    return actor.role not in COMMISSIONING or actor.org in set(commissioners)


def require_commissioner(actor: Actor, commissioners: Iterable[str], *, record: str, action: str) -> None:
    """Refuse (`not_your_commission`) a commissioner or contract manager of an organisation that does not commission `record`."""
    named = sorted(set(commissioners))
    if not commissions(actor, named):
        by = f"it is commissioned by {', '.join(named)}" if named else "no commissioner's area holds it"
        raise NotPermitted(
            f"{actor.org} does not commission {record}, so may not {action}: {by}.",
            code="not_your_commission",
        )


# ---------------------------------------------------------------------------- the events feed

#: what an event may carry that not every viewer may read (`domain.event_view` says which
#: events carry what); the values are the feed's `withheld` reasons
SEALED_TENDER = "sealed_until_tenders_opened"
EVALUATION_WORKING = "evaluation_working"
CLARIFICATION_ASKER = "asker_anonymised"
CONCERN = "concern_restricted"
#: an FOI request, to all but its own authority's FOI officers and admins
FOI_CASE = "foi_case_restricted"
#: a competition absent to the viewer (`sees_competition`): nothing of it but that an event was recorded
ANOTHER_AUTHORITYS = "another_authoritys_competition"


def withheld_from_feed(
    carries: str | None,
    viewer: Actor,
    *,
    tenders_opened: Callable[[], bool],
    commissioners: Callable[[], Iterable[str]] = tuple,
    received_by: Callable[[], str | None] = lambda: None,
) -> str | None:
    """Why `viewer` may not read an event carrying `carries` (None: they may).

    Sealed tenders to everybody until the opening (`tenders_opened` is asked only then); the
    evaluation's working and clarification askers to all but the evaluation's readers;
    concerns to all but their readers among the home's commissioners (`commissioners`, asked
    only then; none given: nobody's, so a commissioner is refused); an FOI request to all but
    its authority's FOI officers and admins (`received_by`, the authority; none given: withheld
    from everybody).
    """
    if carries == SEALED_TENDER:
        return None if tenders_opened() else SEALED_TENDER
    if carries == EVALUATION_WORKING:
        return None if identifies_evaluators(viewer) else carries
    if carries == CLARIFICATION_ASKER:
        return None if reads_evaluation(viewer) else carries
    if carries == CONCERN:
        return None if sees_concerns_of_home(viewer, commissioners=commissioners()) else CONCERN
    if carries == FOI_CASE:
        authority = received_by()
        return None if authority is not None and handles_foi_request(viewer, received_by=authority) else FOI_CASE
    return None


# ---------------------------------------------------------------------------- competitions and their authority
#
# A competition belongs to its authority (the organisation whose procurement lead opened it)
# and to the organisations the authority names as acting for (a CSU running the London round
# for the five London ICBs names them; it may change them later, each change with a reason).
# For everybody bound to an organisation's part in a competition, a competition of anybody
# else is absent: not listed, not readable (record, evaluation trail, as of any time), and
# every command on it refused as an unknown reference is, recording nothing. In an
# append-only ledger a wrongful cancellation by another authority could never be undone.
#
# - Procurement leads run it: only the authority's and the named organisations' leads. Only
#   the authority names or changes who it acts for (`may_name_acting_for`).
# - Commissioners and contract managers: only of the authority and the named organisations.
#   The seeds have the CSU work for its own CCGs/ICBs ("weekly update reports to CCGs", the
#   contract award and mobilisation for them, seed 000 s.5.3 and 5.5): what commissioners see
#   of a round (who tendered, every bidder's letter with its scores, the challenges) is
#   commercially sensitive (FOI Act s.43) and is shared with the organisations it acts for,
#   not with every commissioner in England.
# - Evaluators: of the authority or a named organisation, or seated on one of its panels with
#   their own organisation (the authority may appoint an outside evaluator; seed 000 s.5.4
#   nominates them from CCG directorates across London). Their seat then limits what they
#   see (`panel_seat`).
# - Providers are bidders: any provider may read a competition's public notices, ask and
#   tender; what they see of it is their own (`sees_tender_of`), as before.
# - Auditors, FOI officers, admins and the system (the award and expiry processes, the
#   scheduler) are the ledger's oversight and its own processes: not scoped by organisation.
#
# Who is named is decided on the record as it stands now, also for a read as of a past time:
# an organisation the authority no longer names no longer sees the round's history, and one
# named since sees all of it.

#: the roles whose part in a competition is their organisation's: they see and act on it only
#: as its authority or an organisation it names (an evaluator also from a seat on its panels)
COMPETITION_PARTIES = ("procurement_lead", "commissioner", "contract_manager", "evaluator")
#: the ledger's oversight and its own processes: every competition, whoever runs it
OVERSIGHT = ("auditor", "foi_officer", "admin", "system")


def party_to_competition(actor: Actor, *, authority: str, acting_for: Iterable[str], appointed_with: str | None = None) -> bool:
    """The authority itself, an organisation it names, or an evaluator seated on its panels with their organisation."""
    if actor.org == authority or actor.org in set(acting_for):
        return True
    return evaluates(actor) and appointed_with is not None and appointed_with == actor.org


def sees_competition(viewer: Actor, *, authority: str, acting_for: Iterable[str], appointed_with: str | None = None) -> bool:
    """Whether the competition is there at all for `viewer` (else it is absent: 404, no command on it).

    `appointed_with` is the organisation the viewer was appointed with as an evaluator (None: not appointed).
    """
    if viewer.role not in COMPETITION_PARTIES:
        return True  # a bidder, as any provider may be; or the oversight
    return party_to_competition(viewer, authority=authority, acting_for=acting_for, appointed_with=appointed_with)


def may_name_acting_for(actor: Actor, *, authority: str) -> bool:
    """Only the authority says whom it acts for: a named organisation may not add others, nor drop the authority."""
    return actor.org == authority


# ---------------------------------------------------------------------------- sealed tenders and evaluators on every read of events
# (the feed, the event index and its subjects, proof bundles: `domain.event_view` applies these)


def identifies_evaluators(viewer: Actor, *, released: bool = False) -> bool:
    """Whether `viewer` may learn who evaluated: the accounts that scored, declared, checked and
    assessed, with the evaluation's working they did.

    The evaluation's readers may. To an FOI officer evaluators' identities are personal data
    (FOI Act s.40) until a person decides to release them: `released` is that decision, which an
    FOI extract records in its manifest (`discloses_evaluators`); every other caller leaves it False.
    """
    return reads_evaluation(viewer) or (released and viewer.role == "foi_officer")


def may_extract(viewer: Actor) -> bool:
    """Who may extract records for an FOI disclosure (to anybody else, what they ask for is not found)."""
    return viewer.role in EXTRACT_READERS


def released_in_extract(withheld: str | None) -> bool:
    """Whether an event goes into an FOI extract at all, given why the feed withholds it from the
    extract's reader (`withheld`, from `domain.event_view.withheld_because`).

    A sealed tender before the opening is never released, and a competition absent to the reader
    gives nothing. What else the feed withholds from an FOI officer (the evaluation's working,
    who asked a clarification, concerns) is released field by field through the FOI redaction
    policy (`domain.foi_redaction`), which withholds the identities, the personal data and the
    commercial content whoever extracts it: an extract is a disclosure to the world.
    """
    return withheld not in (SEALED_TENDER, ANOTHER_AUTHORITYS)


def discloses_evaluators(viewer: Actor, *, released: bool) -> bool:
    """Whether an FOI extract names the evaluators: only when a person decided to release them
    (`released`, recorded in the extract's manifest with who decided and why), and only by a
    reader who may learn who evaluated once released (`identifies_evaluators`). The extractor's
    own right to read the evaluation (an auditor's) does not release it to the world."""
    return released and identifies_evaluators(viewer, released=True)


def sees_stored_record(withheld: str | None) -> bool:
    """A proof bundle's record is the event's stored bytes, which cannot be redacted in part: it
    goes only with an event nothing of which is withheld from the viewer (`withheld` is why,
    from `domain.event_view.withheld_because`); otherwise the bundle keeps the leaf's hash and
    place alone, which prove the event is in the log and say nothing of it."""
    return withheld is None


# ---------------------------------------------------------------------------- publication to the world (OCDS)
#
# What the ledger publishes (`audit.ocds`: OCDS releases and records, the public feed at
# /ocds, readable without a token) is read as `PUBLIC`, a viewer who holds no role at all: every
# read of events redacts for it as for the least entitled reader (`domain.event_view`), so a
# sealed tender before its opening, the evaluation's working, who asked a clarification, concerns,
# FOI cases and every value stored as personal data are withheld from it. Of what remains the
# world is told what a notice would tell it (PCR 2015 reg 50 and 84, Procurement Act 2023 s.50
# and Schedule 6): the competition's notice, lots, criteria with their weights, documents with
# their hashes, the clarifications as answered to all bidders (the asker anonymised), how many
# tendered once the tenders are opened, who won each lot (`world_sees_bidder`), the contracts
# with their values, terms, changes and legal grounds, milestones and payments. Never who else
# tendered, nor any bidder's scores, reasons, prices or accounts, nor who evaluated, nor the
# people named in a contract's mobilisation, its risks, escalations or action plans.

#: the world: a viewer holding none of `ROLES`, so no policy above lets it read more than the least
#: entitled reader may (no token is ever issued for it: `api.tokens` takes only `ROLES`)
PUBLIC = Actor(id="the-public", org="the-public", role="public")  # type: ignore[arg-type]


def world_sees_bidder(bidder: str, *, successful: Iterable[str]) -> bool:
    """A bidder is named to the world only as a supplier the award notice names (it won a lot)."""
    return bidder in set(successful)


# ---------------------------------------------------------------------------- FOI requests
#
# An FOI request is the business of the authority that received it: its FOI officers (and its
# admins) record it, clarify it, consider exemptions and respond. Nobody else needs the case
# file, and it holds the requester's name and address: another authority's FOI officer, a
# commissioner or an auditor finds no such request. The disclosure log of what was released
# (projections/foi.py) is the officers' too: publishing it is the authority's own act.


def handles_foi_request(actor: Actor, *, received_by: str) -> bool:
    """Only the FOI officers and admins of the organisation that received the request."""
    return actor.role in FOI_OFFICERS and actor.org == received_by


#: records the event index lists for nobody: it answers every index reader of every organisation
#: alike, and an FOI request is its authority's alone (its officers read it at /foi-requests)
NOT_INDEXED_KINDS = ("foi_request",)


def sees_requester(viewer: Actor, *, received_by: str) -> bool:
    """The requester's name and address: only to those who handle the request."""
    return handles_foi_request(viewer, received_by=received_by)


# ---------------------------------------------------------------------------- the procurement report (defence pack)
#
# The whole report holds the evaluation's working (every score with its evaluator, every
# declaration): it goes to those who read the evaluation, of a competition there for them. A
# bidder's report (PCR 2015 reg 84 and 86) holds what that bidder is entitled to: its own
# scores, result and reasons, the successful tenderers' names and scores, the relative
# advantages; the bidder itself may have it, and so may those who read the evaluation (to
# send it). A stored record in a bidder's report cannot be redacted in part (its bytes are
# the leaf): one that names another bidder, unless only as a successful one, goes as its
# leaf's hash and place alone.


#: who may ask for a procurement report at all (a bidder then only its own)
DEFENCE_PACK_READERS = (*EVALUATION_READERS, "provider")


def may_have_defence_pack(viewer: Actor, *, for_bidder: str | None) -> bool:
    """Whether `viewer` may have the report (`for_bidder`: the one for that bidder; None: the whole one)."""
    if reads_evaluation(viewer):
        return True
    return sees_only_its_own(viewer) and for_bidder == viewer.org


def bidder_pack_shows_record(for_bidder: str, *, names: Iterable[str], successful: Iterable[str]) -> bool:
    """Whether a bidder's report may carry a stored record naming the bidders `names`."""
    return set(names) <= {for_bidder, *successful}
