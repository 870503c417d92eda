"""The London demo: the London AQP framework for care homes, built as its users would (seed 000).

Timeline (the demo covers `years` calendar years ending 31 December 2025):

- 3 January of the first year: the monthly return template is published, the framework
  (one lot per ICB, the 32 borough directorates as the ICBs' directorates) is established
  and priced, and CQC's records of the homes are imported by the daily CQC sync; the ICBs
  set each home's category and directorate.
- Every year from January to April: a procurement round (seed 000 s.5): notices and
  documents, clarification questions answered to all bidders, sealed tenders, evaluator
  panels trained and declaring conflicts, compliance checks, individual scores with
  moderation where they spread, financial ratio analysis and parent company guarantees,
  an evaluation clarification, outcome letters, standstill, a challenge in the first
  round, the award. The ledger's own process turns the award into contracts; the ICBs
  sign and mobilise them, providers submit their homes' contacts, homes go live.
- From go-live: vacancies on most weekdays (fewer at weekends), monthly quality and
  placement returns (punctual, erratic and chronically late homes: about 75-80% on time,
  95% within three months), missed returns recorded by the scheduler the day after the
  deadline, reviews of providers' commentary, the odd amendment; outbreaks with voluntary
  suspensions of placements; registered manager changes and re-inspections through the
  CQC sync; concerns shared by commissioners.
- Each March: the April price schedule, which varies every live contract.
- One home is rated Inadequate and its contract climbs Nottingham's ladder to termination;
  another is required to improve, does, and is de-escalated.

Here: the framework, the procurement rounds, the contracts, prices and daily vacancies; what
happens at each live home month by month is `london_homes.py` (`HomeLife`).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from scenarios.demo.builder import DemoScale, Clocks, Progress, Sender, Timeline, add_months, at, days
from scenarios.demo.london_homes import FRAMEWORK, TEMPLATE, HomeLife, HomeState
from scenarios.demo.world import (
    LONDON_ICBS,
    Person,
    Provider,
    World,
    cqc_record,
    make_homes,
    pick,
)
from domain.procurement import commands as c
from domain.kernel import command_types
from domain.contracts import commands as k
from domain.providers import commands as pc
from domain.monitoring import commands as rc
from domain.kernel.metadata import Actor
from domain.monitoring.templates import shipped_template

CSU = "NEL-CSU"  # the commissioning support unit that runs the AQP for the five ICBs
BED_TYPES = ("nursing", "nursing_dementia", "residential", "residential_dementia")
FIRST_RATES = {"nursing": 92_500, "nursing_dementia": 98_000, "residential": 78_000, "residential_dementia": 84_000}
CRITERIA = [
    c.CriterionSpec(id="T1", title="Quality and safety of nursing care", panel="technical", weight=35, max_score=5, pass_mark=2),
    c.CriterionSpec(id="T2", title="Workforce, staffing and training", panel="technical", weight=25, max_score=5, pass_mark=2),
    c.CriterionSpec(id="T3", title="Safeguarding adults and the Mental Capacity Act", panel="technical", weight=25, max_score=5, pass_mark=2),
    c.CriterionSpec(id="T4", title="Infection prevention and clinical governance", panel="technical", weight=15, max_score=5, pass_mark=2),
]
CLARIFICATIONS = [
    ("May we bid a home whose CQC registration is transferring to us during the procurement?",
     "May a provider bid a home whose CQC registration is transferring during the procurement?",
     "Yes. Include the CQC application reference; the home must be registered before the go-live date."),
    ("Is the weekly rate inclusive of NHS-funded nursing care (FNC)?",
     "Is the weekly AQP rate inclusive of NHS-funded nursing care?",
     "Yes. The AQP rate is the whole weekly fee for a CHC-funded resident, FNC included."),
    ("Our group runs homes in two ICB areas; do we submit one tender or two?",
     "Does a provider with homes in more than one ICB area submit one tender or several?",
     "One tender per provider, naming every lot (ICB area) in which it offers homes."),
    ("Do agency nurses count towards the staffing evidence in question T2?",
     "Do agency staff count towards the workforce evidence for criterion T2?",
     "Evidence your employed workforce; agency use is reported separately as a percentage of hours."),
    ("Must every home on the contract report vacancies daily, including weekends?",
     "Must homes report vacancies every day, including weekends?",
     "Homes update the CMS whenever vacancies change and at least every working day."),
]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class LondonDemo(HomeLife, DemoScale):
    name = "London"

    def __init__(self, sender: Sender, *, seed: int, years: int, homes: int, progress: Progress) -> None:
        super().__init__(sender, seed=seed, years=years, progress=progress)
        places = [(icb.code, borough, district) for icb in LONDON_ICBS for borough, district in icb.boroughs]
        categories = [pick(self.rng, (("older_people", 0.86), ("mental_health", 0.09), ("physical_disability_sensory_impairment", 0.05))) for _ in range(homes)]
        providers, all_homes = make_homes(
            self.rng, homes, places, nursing_share=1.0, categories=categories, registered_before=self.start,
            people=self.people, first_year=self.first, new_entrant_share=0.1, years=years,
        )
        self.world = World(seed=seed, providers=providers, homes=all_homes, people=self.people, rng=self.rng)
        self.states = {h.location_id: HomeState(home=h, index=i, rating=h.rating, rating_date=h.rating_date) for i, h in enumerate(all_homes)}
        self.icbs = {icb.code: icb for icb in LONDON_ICBS}
        self.lead = Actor(id=self.people.new("nelcsu.example.nhs.uk").id, org=CSU, role="procurement_lead")
        self.commissioners = {code: Actor(id=self.people.new(f"{code.lower()}.example.nhs.uk").id, org=f"ICB-{code}", role="commissioner") for code in self.icbs}
        self.managers = {code: Actor(id=self.people.new(f"{code.lower()}.example.nhs.uk").id, org=f"ICB-{code}", role="contract_manager") for code in self.icbs}
        self.cqc = Actor(id="cqc-sync", org=CSU, role="system")
        self.scheduler = Actor(id="aqp-scheduler", org=CSU, role="system")
        self.rates: dict[date, dict[str, int]] = {}
        self.template = shipped_template(TEMPLATE)
        self.timeline = Timeline()
        self.clocks = Clocks()
        self.failed_bidders: set[str] = set()
        self.contracts: dict[str, list[str]] = {}  # contract -> homes
        self.escalated: str | None = None
        self.improving: str | None = None
        #: day -> the returns whose deadline was the day before (the scheduler checks them)
        self.missed_due: dict[date, list[tuple[HomeState, str]]] = {}

    # ------------------------------------------------------------------ helpers

    def send(self, command: command_types.Command, actor: Actor, when: Any) -> command_types.CommandResult:
        # A command is sent on the day the timeline has reached, never ahead of it: the log
        # must read in business-time order, as it would have been written.
        assert self.timeline.now is None or when.date() == self.timeline.now.date(), (command, when, self.timeline.now)
        return self.sender.send(command, actor, self.clocks.time_for(command, when))

    def home_actor(self, state: HomeState) -> Actor:
        return Actor(id=f"{state.home.location_id}-manager", org=state.home.location_id, role="provider")

    def head_office(self, provider: Provider) -> Actor:
        return Actor(id=f"{provider.provider_id}-head-office", org=provider.provider_id, role="provider")

    def record(self, state: HomeState, manager: Person | None = None) -> dict[str, Any]:
        home = state.home
        return cqc_record(
            home, region="London", icb_name=self.icbs[home.icb].full_name, rating=state.rating, rating_date=state.rating_date,
            manager=manager or home.manager, history=list(state.history),
        )

    def rate_on(self, day: date, bed: str) -> int:
        effective = max(d for d in self.rates if d <= day)
        return self.rates[effective][bed]

    # ------------------------------------------------------------------ the build

    def build(self) -> None:
        self.setup()
        for year in range(self.first, self.end.year):
            self.plan_round(year)
            if year > self.first:
                self.timeline.schedule(at(date(year, 3, 2), 9), lambda year=year: self.april_prices(year))
        self.plan_homes_joining()
        self.plan_daily()
        total = (self.end - self.start).days
        self.progress.start(f"London {self.first}-{self.end.year - 1}")

        def step(when: Any) -> None:
            self.progress.update((when.date() - self.start).days, total, f"{when.date()} commands {self.sender.sent}")

        self.timeline.run_until(at(self.end, 0), step)
        self.sender.follow_processes()
        self.progress.finish(f"{self.sender.sent} commands")

    # ------------------------------------------------------------------ setup

    def setup(self) -> None:
        day = date(self.first, 1, 3)
        admin = self.commissioners["NCL"]
        self.send(rc.PublishTemplate(template=self.template), admin, at(day, 9))
        self.send(k.EstablishFramework(
            framework=FRAMEWORK,
            title="London Any Qualified Provider framework: nursing homes (NHS Continuing Healthcare)",
            kind="care_homes",
            lots=[k.FrameworkLot(id=icb.code, name=f"{icb.name} ({', '.join(b for b, _ in icb.boroughs)})") for icb in LONDON_ICBS],
            # Each ICB commissions its own lot and the homes in its boroughs (its directorates).
            commissioners=[k.Commissioner(org=icb.org, kind="icb", directorates=[b for b, _ in icb.boroughs], lots=[icb.code]) for icb in LONDON_ICBS],
            starts_on=date(self.first, 4, 1), ends_on=date(self.end.year + 3, 3, 31), regime="pcr2015",
            escalation_ladder="nottingham", max_extension_months=24,
            # London's monitoring: the monthly return, judged by London's KPIs (seed 000 s.7)
            monitoring={"returns": [TEMPLATE], "kpis": ["london-aqp-care-homes"]},
        ), admin, at(day, 9, 10))
        self.rates[date(self.first, 4, 1)] = dict(FIRST_RATES)
        self.send(k.SetFrameworkPrices(framework=FRAMEWORK, effective_from=date(self.first, 4, 1), rates=dict(FIRST_RATES)), admin, at(day, 9, 20))
        existing = [s for s in self.states.values() if s.home.provider.enters == 0]
        self.sender.import_cqc([self.record(s) for s in existing], self.cqc, at(day, 6), batch=day.isoformat())
        for s in existing:
            self.classify(s, day)

    def classify(self, state: HomeState, day: date) -> None:
        manager = self.managers[state.home.icb]
        self.send(pc.SetLocationCategory(location=state.home.location_id, category=state.home.category), manager, at(day, 10))
        self.send(pc.SetCommissioningArea(location=state.home.location_id, area=state.home.borough), manager, at(day, 10, 1))

    def plan_homes_joining(self) -> None:
        """New homes register with CQC during the year; the daily sync brings them in."""
        for state in self.states.values():
            if state.home.provider.enters:
                day = state.home.registered_on

                def register(state: HomeState = state, day: date = day) -> None:
                    self.sender.import_cqc([self.record(state)], self.cqc, at(day, 6), batch=day.isoformat())
                    self.classify(state, day)

                self.timeline.schedule(at(day, 6), register)
                # CQC first inspects a new home within about a year.
                inspected = day + timedelta(days=self.rng.randint(150, 300))
                self.timeline.schedule(at(inspected, 6), lambda state=state, d=inspected: self.rerate(state, d, pick(self.rng, (("Good", 0.8), ("Requires improvement", 0.2)))))

    # ------------------------------------------------------------------ procurement

    def plan_round(self, year: int) -> None:
        self.timeline.schedule(at(date(year, 1, 9), 8), lambda: self.run_round(year))

    def run_round(self, year: int) -> None:
        """One procurement round (seed 000 s.5): its steps scheduled at their business times.

        The first round is open to every provider in the market; later rounds to providers
        new to it and to those unsuccessful the year before (who have improved since).
        """
        r = year - self.first
        bidders = [p for p in self.world.providers if p.enters == r or (r > 0 and p.provider_id in self.failed_bidders)]
        if not bidders:
            return
        rng = self.rng
        ref = f"AQP-CH-{year}"
        lead = self.lead
        psr = year >= 2024  # NHS healthcare services are procured under the Provider Selection Regime from 2024
        opened = date(year, 1, 9)
        lots = sorted({h.icb for p in bidders for h in p.homes})
        values: dict[str, Any] = {}

        def on(day: date, hour: int, command: Any, actor: Actor, minute: int = 0, key: str | None = None) -> None:
            """Schedule a command; `command` may be a function making it from earlier results."""

            def step() -> None:
                made = command() if callable(command) else command
                result = self.send(made, actor, at(day, hour, minute))
                if key is not None:
                    values[key] = result.value

            self.timeline.schedule(at(day, hour, minute), step)

        on(opened, 9, c.OpenCompetition(
            competition=ref, title=f"London AQP for NHS Continuing Healthcare nursing home placements {year}/{(year + 1) % 100:02d}",
            procedure="psr_competitive" if psr else "light_touch", standstill_regime="psr2024" if psr else "pcr2015",
            lots=[c.LotSpec(id=code, name=self.icbs[code].name) for code in lots],
            clarification_deadline=at(date(year, 2, 3), 17), tender_deadline=at(date(year, 2, 17), 12), moderation_spread=1,
            framework=FRAMEWORK, acting_for=[icb.org for icb in LONDON_ICBS],  # the CSU runs it for the five ICBs
        ), lead)
        on(opened, 9, c.PublishCriteria(
            competition=ref, criteria=CRITERIA, quality_threshold=60,
            financial_thresholds=c.FinancialThresholds(min_credit_score=40, min_current_ratio=1.0, max_gearing=2.0, min_operating_margin=0.0),
        ), lead, 5)
        for i, (doc, title) in enumerate((
            ("ITT", "Invitation to tender and terms of bidding"), ("SPEC", "Service specification: nursing home placements"),
            ("CONTRACT", "NHS Standard Contract particulars (AQP)"), ("QUALIFICATION", "Qualification criteria and evaluation methodology"),
        )):
            on(opened, 9, c.PublishDocument(competition=ref, document=doc, title=title, sha256=_sha(f"{ref}/{doc}"), size_bytes=180_000 + 37_000 * i), lead, 10 + i)
        on(opened, 9, c.PublishNotice(competition=ref, notice_type="contract_notice", notice_reference=f"CF-{year}-{rng.randint(100, 999)}-AQP", published_on=opened), lead, 20)

        # Clarification questions, answered to every bidder with the asker anonymised.
        for n, (question, published, answer) in enumerate(rng.sample(CLARIFICATIONS, k=min(len(CLARIFICATIONS), max(2, len(bidders) // 8)))):
            asker = rng.choice(bidders)
            asked = date(year, 1, 12 + 4 * n)
            on(asked, 11, c.AskClarification(competition=ref, question=f"{asker.name} asks: {question}"), self.head_office(asker), key=f"Q{n}")
            on(asked + timedelta(days=2), 15, lambda n=n, published=published, answer=answer: c.AnswerClarification(
                competition=ref, clarification=values[f"Q{n}"]["clarification"], published_question=published, answer=answer,
            ), lead)

        # Sealed tenders, one per provider, naming the lots where it has homes.
        for i, provider in enumerate(bidders):
            day = date(year, 1, 20) + timedelta(days=(i * 27) // max(len(bidders), 1))
            on(day, 10 + i % 7, c.SubmitTender(
                competition=ref, lots=sorted({h.icb for h in provider.homes}),
                content_sha256=_sha(f"tender/{ref}/{provider.provider_id}"), size_bytes=2_400_000 + 10_000 * len(provider.homes),
            ), self.head_office(provider), i % 60)
        opened_on = date(year, 2, 17)
        on(opened_on, 13, c.OpenTenders(competition=ref), lead)

        # Evaluators: clinicians and commissioners from three ICBs; a financial evaluator from a fourth.
        icbs = rng.sample(sorted(self.icbs), k=4)
        people = [self.people.new(f"{code.lower()}.example.nhs.uk", prefix="ev") for code in icbs]
        technical = [Actor(id=person.id, org=f"ICB-{code}", role="evaluator") for person, code in zip(people[:3], icbs[:3])]
        financial = Actor(id=people[3].id, org=f"ICB-{icbs[3]}", role="evaluator")
        panel = [(e, "technical") for e in technical] + [(financial, "financial")]
        for i, ((ev, kind), person) in enumerate(zip(panel, people)):
            on(opened_on + timedelta(days=1), 10, c.AppointEvaluator(
                competition=ref, evaluator=ev.id, evaluator_org=ev.org, panel=kind, name=person.name, email=person.email,
            ), lead, i)
            on(opened_on + timedelta(days=2), 10, c.RecordTraining(competition=ref, evaluator=ev.id), lead, i)
        conflicted = (technical[rng.randrange(3)].id, rng.choice(bidders).provider_id)
        for i, (ev, _) in enumerate(panel):
            on(opened_on + timedelta(days=3), 9, c.DeclareConflicts(competition=ref, declarations=[
                c.ConflictDeclaration(
                    bidder=p.provider_id, conflicted=(ev.id, p.provider_id) == conflicted,
                    note="Worked as a clinical lead for this provider until last year" if (ev.id, p.provider_id) == conflicted else "",
                ) for p in bidders
            ]), ev, i)

        # Compliance: CQC and ICO registration, insurance, exclusion grounds (PCR 2015 reg 57).
        fails_insurance = rng.choice(bidders).provider_id if year == self.first and len(bidders) > 5 else None
        check_day = opened_on + timedelta(days=4)
        for i, p in enumerate(bidders):
            for check in ("cqc_registration", "ico_registration", "insurance", "exclusion_grounds"):
                failed = p.provider_id == fails_insurance and check == "insurance"
                on(check_day, 10 + i // 60, c.RecordCompliance(
                    competition=ref, bidder=p.provider_id, check=check, passed=not failed,
                    note="Employer's liability cover lapsed before the tender deadline; no renewal evidenced" if failed else "Verified",
                ), lead, i % 60)
        passed_compliance = [p for p in bidders if p.provider_id != fails_insurance]

        # Individual scores; answers whose scores spread by more than one point are moderated.
        score_day = opened_on + timedelta(days=7)
        moderate: list[tuple[str, str, int]] = []
        minute = 0
        for p in passed_compliance:
            for crit in CRITERIA:
                given = []
                for ev in technical:
                    if (ev.id, p.provider_id) == conflicted:
                        continue
                    score = max(1, min(5, p.quality + rng.choice((-1, 0, 0, 0, 1))))
                    given.append(score)
                    minute += 1
                    on(score_day + timedelta(days=minute // 400), 9 + (minute % 400) // 50, c.RecordScore(
                        competition=ref, bidder=p.provider_id, criterion=crit.id, score=score,
                        justification=f"Against {crit.id} ({crit.title}): the evidence meets the level {score} descriptor of the published methodology.",
                    ), ev, minute % 50)
                if max(given) - min(given) > 1:
                    moderate.append((p.provider_id, crit.id, sorted(given)[len(given) // 2]))

        finance_day = score_day + timedelta(days=6)
        for i, p in enumerate(passed_compliance):
            weak = p.finances != "strong"
            on(finance_day, 10 + i // 60, c.AssessFinances(
                competition=ref, bidder=p.provider_id, credit_score=rng.randint(25, 38) if weak else rng.randint(55, 92),
                accounts=c.Accounts(
                    current_assets=rng.randint(50, 70) * 1_000_000 if weak else rng.randint(150, 260) * 1_000_000,
                    current_liabilities=120_000_000,
                    total_debt=rng.randint(380, 460) * 1_000_000 if weak else rng.randint(60, 180) * 1_000_000,
                    net_assets=140_000_000 if weak else rng.randint(180, 400) * 1_000_000,
                    turnover=rng.randint(400, 2500) * 1_000_000,
                    operating_profit=-5_000_000 if weak else rng.randint(30, 90) * 1_000_000,
                ),
            ), financial, i % 60)
        for i, p in enumerate(q for q in passed_compliance if q.finances == "weak"):
            on(finance_day + timedelta(days=1), 10, c.OfferGuarantee(
                competition=ref, bidder=p.provider_id, guarantor=f"{p.name[:-4]} Holdings plc",
                guarantor_company_number=f"{rng.randint(1_000_000, 9_999_999):08d}",
            ), lead, i)
            on(finance_day + timedelta(days=6), 10, c.ExecuteGuarantee(
                competition=ref, bidder=p.provider_id, document_sha256=_sha(f"pcg/{ref}/{p.provider_id}"),
            ), lead, i)

        asked = rng.choice(passed_compliance)
        on(finance_day + timedelta(days=2), 9, c.IssueEvaluationClarification(
            competition=ref, bidder=asked.provider_id,
            question="Please confirm the turnover in your latest filed accounts; the accounts show a restatement of deferred income.",
        ), lead, key="EC")
        on(finance_day + timedelta(days=4), 11, lambda: c.RespondToEvaluationClarification(
            competition=ref, clarification=values["EC"]["clarification"],
            response="Confirmed: the restated turnover is the figure in note 3 of the accounts; the auditor's note explains the change.",
        ), self.head_office(asked))

        moderation_day = finance_day + timedelta(days=7)
        for i, (bidder, crit_id, consensus) in enumerate(moderate):
            on(moderation_day, 14, c.ModerateScore(
                competition=ref, bidder=bidder, criterion=crit_id, score=consensus,
                rationale="The panel agreed the consensus score at the moderation meeting against the published descriptors.",
            ), lead, i % 60)
        on(moderation_day + timedelta(days=1), 10, c.DecideOutcome(competition=ref), lead)
        letters_day = date(year, 4, 1)
        on(letters_day, 10, c.IssueOutcomeLetters(competition=ref, relative_advantages={
            code: "Successful tenders evidenced nurse-led clinical audit, stable registered managers, full safeguarding training and sound finances."
            for code in lots
        }), lead)
        if psr:
            # PSR reg 12: the standstill begins with the notice of intention to award, published with the letters.
            on(letters_day, 10, c.PublishNotice(
                competition=ref, notice_type="psr_intention_to_award", notice_reference=f"FTS-{year}-PSR-INTENT", published_on=letters_day,
            ), lead, 30)
        if fails_insurance:
            on(letters_day + timedelta(days=4), 16, c.ReceiveChallenge(
                competition=ref, bidder=fails_insurance, kind="representation" if psr else "challenge",
                grounds="The provider says its insurance renewal was in place and the compliance check was wrong.",
            ), lead, key="CH")
            on(letters_day + timedelta(days=8), 11, lambda: c.ResolveChallenge(
                competition=ref, challenge=values["CH"]["challenge"], outcome="dismissed",
                decision="The broker's letter shows cover lapsed before the tender deadline and was renewed after it; "
                         "compliance is assessed at the deadline. The decision stands.",
            ), lead)
        self.timeline.schedule(at(letters_day + timedelta(days=8), 18), lambda: self.after_standstill(ref, bidders))

    def after_standstill(self, ref: str, bidders: list[Provider]) -> None:
        """Once any challenge is resolved: the award after the standstill, and who re-bids next year."""
        competition = self.sender.ledger.competition(ref)
        assert competition.standstill is not None and competition.outcome is not None
        outcome = competition.outcome
        successful = {b for lot in outcome["lots"].values() for b in lot["successful"]}
        self.failed_bidders = {p.provider_id for p in bidders if p.provider_id not in successful}
        for p in bidders:
            if p.provider_id in self.failed_bidders:
                # Unsuccessful providers improve and re-bid next year.
                p.quality = min(5, p.quality + 1)
                p.finances = "weak" if p.finances == "failing" else p.finances
        award_day = competition.standstill["ends_at"].date() + timedelta(days=1)
        self.timeline.schedule(at(award_day, 12), lambda: self.award(ref, award_day, outcome, bidders))

    def award(self, ref: str, day: date, outcome: dict[str, Any], bidders: list[Provider]) -> None:
        self.send(c.ConcludeAward(competition=ref), self.lead, at(day, 12))
        # Under the PSR the award is confirmed by its own notice; before it, the award notice of the time.
        psr = self.sender.ledger.competition(ref).standstill_regime == "psr2024"
        self.send(c.PublishNotice(
            competition=ref, notice_type="psr_award_confirmation" if psr else "award_notice",
            notice_reference=f"FTS-{day.year}-PSR-AWARD" if psr else f"CF-{day.year}-AWARD", published_on=day,
        ), self.lead, at(day, 12, 30))
        self.sender.contracts_from_awards()  # contracts follow the award (the ledger's own process)
        by_id = {p.provider_id: p for p in bidders}
        sign_day = day + timedelta(days=4)
        go_live = add_months(day, 1) if (add_months(day, 1) - day).days >= 10 else add_months(day, 2)
        for lot, result in sorted(outcome["lots"].items()):
            for n, bidder in enumerate(result["successful"]):
                contract = f"{ref}/{lot}/{bidder}"
                provider = by_id[bidder]
                homes = [self.states[h.location_id] for h in provider.homes if h.icb == lot]
                self.contracts[contract] = [s.home.location_id for s in homes]
                self.timeline.schedule(at(sign_day, 11), lambda contract=contract, lot=lot, provider=provider, homes=homes, n=n: self.mobilise(contract, lot, provider, homes, sign_day, go_live, n))

    def mobilise(self, contract: str, lot: str, provider: Provider, homes: list[HomeState], sign_day: date, go_live: date, n: int) -> None:
        manager = self.managers[lot]
        self.send(k.SignContract(contract=contract, signed_on=sign_day), manager, at(sign_day, 11, n % 60))
        mobilised = sign_day + timedelta(days=3)
        self.timeline.schedule(at(mobilised, 11), lambda: self.go_live(contract, lot, provider, homes, mobilised, go_live, n))

    def go_live(self, contract: str, lot: str, provider: Provider, homes: list[HomeState], mobilised: date, go_live: date, n: int) -> None:
        manager = self.managers[lot]
        self.send(k.MobiliseContract(
            contract=contract, contract_manager=f"AQP contract manager, {self.icbs[lot].name} ICB",
            invoicing_contact_role="Finance manager", go_live=go_live,
        ), manager, at(mobilised, 11, n % 60))
        for i, state in enumerate(homes):
            # Providers submit their homes' contacts in the online mobilisation (seed 000 s.5.5).
            person = state.home.manager
            self.send(pc.AddLocationContact(
                location=state.home.location_id, contact=person.id, role="home manager", name=person.name, email=person.email,
            ), self.head_office(provider), at(mobilised, 14, i % 60))
            state.contact = person
            self.send(k.AddHome(contract=contract, location=state.home.location_id, effective_from=go_live), manager, at(mobilised, 15, i % 60))
            state.contract = contract
            state.live_from = go_live
            state.residents = int(state.home.beds * self.rng.uniform(0.82, 0.96))
            nurses = max(4, state.home.beds // 6)
            state.staff = (nurses, int(state.home.beds * 0.9), max(6, state.home.beds // 4))
            state.vacancies = {bed: min(n_beds, self.rng.randint(0, 3)) for bed, n_beds in state.home.bed_mix.items()}
            for _ in range(max(1, int(state.home.beds * self.rng.uniform(0.06, 0.16)))):
                state.placements.append(self.new_placement(state, go_live - timedelta(days=self.rng.randint(20, 400))))
        if contract == self.story_contract("escalated") and self.escalated is None:
            self.escalated = contract
            self.plan_escalation(homes[0], go_live)
        elif contract == self.story_contract("improving") and self.improving is None:
            self.improving = contract
            self.plan_improvement(homes[0], go_live)

    def story_contract(self, story: str) -> str | None:
        """The contracts of the escalation stories: single-home providers of the first round."""
        singles = sorted(
            (p for p in self.world.providers if len(p.homes) == 1 and p.enters == 0 and p.provider_id not in self.failed_bidders
             and p.homes[0].punctuality == "punctual"),
            key=lambda p: p.provider_id,
        )
        index = {"escalated": 0, "improving": 1}[story]
        if len(singles) <= index:
            return None
        p = singles[index]
        return f"AQP-CH-{self.first}/{p.homes[0].icb}/{p.provider_id}"

    # ------------------------------------------------------------------ prices

    def april_prices(self, year: int) -> None:
        uplift = 1 + self.rng.uniform(0.035, 0.07)
        previous = self.rates[max(self.rates)]
        rates = {bed: int(round(rate * uplift / 50) * 50) for bed, rate in previous.items()}
        self.rates[date(year, 4, 1)] = rates
        self.send(k.SetFrameworkPrices(
            framework=FRAMEWORK, effective_from=date(year, 4, 1), rates=rates,
            rationale=f"Annual price review under the contract's price review clause: National Living Wage and on-costs from April {year}.",
        ), self.commissioners["NCL"], at(date(year, 3, 2), 9))

    # ------------------------------------------------------------------ daily life

    def plan_daily(self) -> None:
        for day in days(self.start, self.end):
            self.timeline.schedule(at(day, 7), lambda day=day: self.scheduler_run(day))
            self.timeline.schedule(at(day, 8), lambda day=day: self.vacancies(day))
            if day.day == 1:
                self.timeline.schedule(at(day, 5), lambda day=day: self.plan_month(day))

    def vacancies(self, day: date) -> None:
        """Homes report vacancies most weekdays; fewer at weekends (seed 000 s.6.1.2)."""
        rng = self.rng
        weekend = day.weekday() >= 5
        for state in self.states.values():
            if not state.live_on(day):
                continue
            chance = state.home.vacancy_diligence * (0.2 if weekend else 1.0)
            if rng.random() >= chance:
                continue
            for bed, beds in state.home.bed_mix.items():
                if beds:
                    state.vacancies[bed] = max(0, min(beds, min(8, state.vacancies[bed] + rng.choice((-1, 0, 0, 0, 1)))))
            self.send(pc.ReportVacancies(location=state.home.location_id, date=day, **state.vacancies), self.home_actor(state), at(day, 8, state.index % 60))

    def scheduler_run(self, day: date) -> None:
        """The scheduler records returns missed once their deadline has passed, then the processes follow."""
        due = self.missed_due.pop(day, [])
        for state, period in due:
            if period not in state.submitted:
                self.send(rc.RecordReturnMissed(location=state.home.location_id, template=TEMPLATE, version=1, period=period), self.scheduler, at(day, 7))
        if due:
            self.sender.follow_processes()
