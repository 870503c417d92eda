"""The Nottingham demo: the city council's residential and nursing care homes (seed 004).

83 homes in the four categories (41 older people, 13 mental health, 3 physical disability and
sensory impairment, 26 learning disability), one base weekly rate for every home (GBP 469.28,
raised each April under the council's fair price approach), one contract per provider, and
an annual quality monitoring visit to every home against the 43-indicator framework: NCC
visits residential homes, the CCG (now the ICB) nursing homes. A Red visit requires the home
to improve, with the visit's action plan linked to the contract's improvement plan; a home
that improves by the next visit is de-escalated; one that does not climbs the four stages
to termination.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from scenarios.demo.builder import DemoScale, Clocks, Progress, Sender, Timeline, at
from scenarios.demo.world import Home, Provider, cqc_record, make_homes, pick
from domain.contracts import commands as k
from domain.providers import commands as pc
from domain.monitoring import commands as vc
from domain.contracts.contract import Contract
from domain.kernel.metadata import Actor
from domain.monitoring.quality_visits import NOTTINGHAM, parse_visit_framework, shipped_visit_framework

FRAMEWORK = "NCC-RES"
BASE_RATE = 46_928  # GBP 469.28 a week: one base rate for every residential and nursing home (seed 004)
#: seed 004's 83 homes by category
CATEGORIES = {"older_people": 41, "mental_health": 13, "physical_disability_sensory_impairment": 3, "learning_disability": 26}
ICB_NAME = "NHS Nottingham and Nottinghamshire Integrated Care Board"
DISTRICTS = ("NG1", "NG2", "NG3", "NG5", "NG6", "NG7", "NG8", "NG9", "NG11")
#: the year-on-year RAG mix of seed 004's table (2015/16: 7 Red, 36 Amber, 24 Green of 67)
RAG_MIX = (("green", 0.36), ("amber", 0.54), ("red", 0.10))


class NottinghamDemo(DemoScale):
    name = "Nottingham"

    def __init__(self, sender: Sender, *, seed: int, years: int, homes: int, progress: Progress) -> None:
        super().__init__(sender, seed=seed, years=years, progress=progress)
        # The seed's mix, scaled if a smaller world is asked for (tests), in a shuffled order.
        total = sum(CATEGORIES.values())
        categories = [cat for cat, n in CATEGORIES.items() for _ in range(max(1, round(n * homes / total)))][:homes]
        while len(categories) < homes:
            categories.append("older_people")
        self.rng.shuffle(categories)
        places = [("NN", "Nottingham", district) for district in DISTRICTS]
        self.providers, self.homes = make_homes(
            self.rng, homes, places, nursing_share=0.35, categories=categories, registered_before=self.start,
            people=self.people, first_year=self.first,
        )
        self.council = Actor(id=self.people.new("nottinghamcity.example.gov.uk").id, org="NCC", role="commissioner")
        self.procurement = Actor(id=self.people.new("nottinghamcity.example.gov.uk").id, org="NCC", role="procurement_lead")
        self.officer = Actor(id=self.people.new("nottinghamcity.example.gov.uk").id, org="NCC", role="contract_manager")
        self.icb_nurse = Actor(id=self.people.new("nn.example.nhs.uk").id, org="ICB-NN", role="contract_manager")
        self.cqc = Actor(id="cqc-sync", org="NCC", role="system")
        self.framework = parse_visit_framework(shipped_visit_framework(NOTTINGHAM))
        self.indicators = [(i["id"], bool(i.get("critical"))) for g in self.framework["groups"] for i in g["indicators"]]
        self.timeline = Timeline()
        self.clocks = Clocks()
        self.contract_of: dict[str, str] = {}
        self.escalated: dict[str, int] = {}  # contract -> how many Red visits in a row
        self.terminated: set[str] = set()
        self.doomed: str | None = None
        self.terminating: set[str] = set()

    def send(self, command: Any, actor: Actor, when: Any) -> Any:
        assert self.timeline.now is None or when.date() == self.timeline.now.date(), (command, when, self.timeline.now)
        return self.sender.send(command, actor, self.clocks.time_for(command, when))

    def build(self) -> None:
        self.setup()
        for year in range(self.first + 1, self.end.year):
            self.timeline.schedule(at(date(year, 3, 2), 9), lambda year=year: self.april_rate(year))
        for i, home in enumerate(self.homes):
            # Each home's visit falls on the same weekday-ish date each year.
            offset = (i * 365) // len(self.homes)
            for year in range(self.first, self.end.year):
                day = date(year, 4, 1) + timedelta(days=offset)
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                if day < self.end:
                    self.timeline.schedule(at(day - timedelta(days=14), 9), lambda home=home, day=day: self.visit(home, day))
        total = (self.end - self.start).days
        self.progress.start(f"Nottingham {self.first}-{self.end.year - 1}")
        self.timeline.run_until(at(self.end, 0), lambda when: self.progress.update((when.date() - self.start).days, total, f"{when.date()} commands {self.sender.sent}"))
        self.sender.follow_processes()
        self.progress.finish(f"{self.sender.sent} commands")

    def setup(self) -> None:
        day = date(self.first, 1, 6)
        self.timeline.now = at(day)
        self.send(k.EstablishFramework(
            framework=FRAMEWORK, title="Nottingham City Council: residential and nursing care homes", kind="care_homes",
            lots=[k.FrameworkLot(id="CITY", name="Nottingham City")],
            commissioners=[
                # Both commission the city's homes: the council residential care, the ICB nursing care (seed 004).
                k.Commissioner(org="NCC", kind="council", directorates=["Strategy and Commissioning"], areas=["Nottingham"]),
                k.Commissioner(org="ICB-NN", kind="icb", directorates=["Nottingham City place"], areas=["Nottingham"]),
            ],
            starts_on=date(self.first, 4, 1), ends_on=date(self.end.year + 3, 3, 31), regime="pcr2015",
            escalation_ladder="nottingham", max_extension_months=12,
        ), self.council, at(day, 9))
        self.rate = BASE_RATE
        self.send(k.SetFrameworkPrices(
            framework=FRAMEWORK, effective_from=date(self.first, 4, 1), rates={bed: BASE_RATE for bed in ("nursing", "nursing_dementia", "residential", "residential_dementia")},
        ), self.council, at(day, 9, 5))
        self.sender.import_cqc(
            [cqc_record(h, region="East Midlands", icb_name=ICB_NAME) for h in self.homes], self.cqc, at(day, 6), batch=day.isoformat()
        )
        for i, home in enumerate(self.homes):
            self.send(pc.SetLocationCategory(location=home.location_id, category=home.category), self.officer, at(day, 10, i % 60))
            self.send(pc.SetCommissioningArea(location=home.location_id, area="Nottingham City"), self.officer, at(day, 11, i % 60))
        award = date(self.first, 3, 2)
        for i, provider in enumerate(self.providers):
            contract = f"{FRAMEWORK}-{self.first}/CITY/{provider.provider_id}"
            beds = sum(h.beds for h in provider.homes)
            self.timeline.schedule(at(award, 10), lambda p=provider, contract=contract, beds=beds, i=i: self.accredit(p, contract, beds, award, i))
        singles = sorted((p for p in self.providers if len(p.homes) == 1), key=lambda p: p.provider_id)
        if singles:
            self.doomed = f"{FRAMEWORK}-{self.first}/CITY/{singles[0].provider_id}"

    def accredit(self, provider: Provider, contract: str, beds: int, day: date, i: int) -> None:
        """The council's contract with an accredited provider, signed, mobilised and its homes added."""
        self.send(k.AwardContract(
            contract=contract, framework=FRAMEWORK, competition=f"NCC-RES-{self.first}-ACCREDITATION", lot="CITY",
            provider=provider.provider_id, value=BASE_RATE * beds * 52 * 4, starts_on=date(self.first, 4, 1), ends_on=date(self.end.year + 3, 3, 31),
        ), self.procurement, at(day, 10, i % 60))
        self.send(k.SignContract(contract=contract, signed_on=day), self.officer, at(day, 14, i % 60))
        self.timeline.schedule(at(day + timedelta(days=14), 11), lambda: self.mobilise(provider, contract, day + timedelta(days=14), i))

    def mobilise(self, provider: Provider, contract: str, day: date, i: int) -> None:
        self.send(k.MobiliseContract(
            contract=contract, contract_manager="Contract officer, Strategy and Commissioning", invoicing_contact_role="Finance manager",
            go_live=date(self.first, 4, 1),
        ), self.officer, at(day, 11, i % 60))
        for home in provider.homes:
            self.send(k.AddHome(contract=contract, location=home.location_id, effective_from=date(self.first, 4, 1)), self.officer, at(day, 12, i % 60))
            self.contract_of[home.location_id] = contract

    def april_rate(self, year: int) -> None:
        # The council's four-year approach to a fair price: a rise each April.
        self.rate = int(round(self.rate * (1 + self.rng.uniform(0.03, 0.06))))
        self.send(k.SetFrameworkPrices(
            framework=FRAMEWORK, effective_from=date(year, 4, 1), rates={bed: self.rate for bed in ("nursing", "nursing_dementia", "residential", "residential_dementia")},
            rationale=f"Annual uplift of the base rate from April {year} under the council's fair price for care approach.",
        ), self.council, at(date(year, 3, 2), 9))

    # ------------------------------------------------------------------ visits

    def visitor(self, home: Home) -> tuple[Actor, list[str]]:
        if home.nursing:
            return self.icb_nurse, ["CCG quality nurse", "NCC quality monitoring officer"]
        return self.officer, ["NCC quality monitoring officer"]

    def visit(self, home: Home, day: date) -> None:
        contract = self.contract_of.get(home.location_id)
        if contract is None or contract in self.terminated:
            return
        actor, visitors = self.visitor(home)
        self.send(vc.ScheduleQualityVisit(location=home.location_id, visit_date=day, visitors=visitors, contract=contract), actor, at(day - timedelta(days=14), 9))
        red_before = self.escalated.get(contract, 0)
        target = "red" if contract == self.doomed else "green" if red_before and self.rng.random() < 0.6 else None
        rag = target or pick(self.rng, RAG_MIX)
        self.timeline.schedule(at(day, 15), lambda: self.score(home, day, contract, actor, rag))

    def score(self, home: Home, day: date, contract: str, actor: Actor, rag: str) -> None:
        scores = self.scores_for(rag)
        self.send(vc.ScoreQualityVisit(location=home.location_id, visit_date=day, scores=[
            vc.IndicatorScore(indicator=iid, score=s, evidence="" if s == 4 else f"Seen on the visit: evidence for {iid.replace('_', ' ')} at level {s}.")
            for iid, s in scores.items()
        ]), actor, at(day, 15))
        result = self.send(vc.ConcludeQualityVisit(location=home.location_id, visit_date=day), actor, at(day, 16))
        outcome = result.value["rag"]
        below = [iid for iid, s in scores.items() if s < self.framework["standard"]]
        reds = self.escalated.get(contract, 0)
        if outcome == "red" and contract not in self.terminated:
            self.escalated[contract] = reds + 1
            self.timeline.schedule(at(day + timedelta(days=3), 10), lambda: self.red_visit(home, day, contract, below, reds))
        elif below:
            self.timeline.schedule(at(day + timedelta(days=7), 11), lambda: self.agree_plan(home, day, actor, below))
        if outcome != "red" and reds and contract not in self.terminated:
            # Once per contract: a provider's other homes share the contract and its stage.
            self.escalated[contract] = 0
            self.timeline.schedule(at(day + timedelta(days=10), 10), lambda: self.de_escalate(contract, day + timedelta(days=10)))

    def agree_plan(self, home: Home, day: date, actor: Actor, below: list[str]) -> None:
        self.send(vc.AgreeVisitActionPlan(location=home.location_id, visit_date=day, actions=[
            vc.VisitAction(indicator=iid, description=f"Bring {iid.replace('_', ' ')} up to the standard", owner_role="registered manager", due=day + timedelta(days=90))
            for iid in below
        ]), actor, at(day + timedelta(days=7), 11))

    def red_visit(self, home: Home, day: date, contract: str, below: list[str], reds_before: int) -> None:
        """A Red visit: a requirement to improve (or, for the home that never improves, the next stage)."""
        when = day + timedelta(days=3)
        officer = self.officer
        contract_state = self.sender.ledger.aggregate(Contract, contract)
        if contract_state.stage < 0:
            self.send(k.EscalateContract(
                contract=contract, to_stage="requirement_to_improve", due=when + timedelta(days=90),
                reason=f"Annual quality monitoring visit of {day.isoformat()}: Red, {len(below)} of 43 indicators below standard.",
            ), officer, at(when, 10))
        actor, _ = self.visitor(home)
        self.send(vc.AgreeVisitActionPlan(location=home.location_id, visit_date=day, actions=[
            vc.VisitAction(indicator=iid, description=f"Bring {iid.replace('_', ' ')} up to the standard", owner_role="registered manager", due=when + timedelta(days=60))
            for iid in below
        ]), actor, at(when, 11))
        if contract == self.doomed and contract not in self.terminating:
            self.terminating.add(contract)
            self.plan_termination(contract, when)

    def plan_termination(self, contract: str, when: date) -> None:
        """The home that does not improve: suspension, a 90-day final notice, termination (seed 004)."""
        steps = [
            (when + timedelta(days=91), k.EscalateContract(contract=contract, to_stage="contract_suspension", due=when + timedelta(days=150),
                                                           reason="Requirement to improve not met: the action plan is not delivered.")),
            (when + timedelta(days=151), k.EscalateContract(contract=contract, to_stage="final_notice_90_day", due=when + timedelta(days=242),
                                                            reason="Suspension did not secure the improvements: 90-day final notice served.")),
            (when + timedelta(days=243), k.TerminateContract(contract=contract, reason_kind="default", effective_on=when + timedelta(days=243),
                                                             reason="90-day final notice expired without remedy; residents supported to move under the provider failure procedure.")),
        ]
        for day, command in steps:
            def step(day: date = day, command: Any = command) -> None:
                self.send(command, self.officer, at(day, 10))
                if isinstance(command, k.TerminateContract):
                    self.terminated.add(contract)

            self.timeline.schedule(at(day, 10), step)

    def de_escalate(self, contract: str, day: date) -> None:
        state = self.sender.ledger.aggregate(Contract, contract)
        if state.stage < 0 or state.status in ("terminated", "expired"):
            return
        minute = 0
        for plan, record in sorted(state.action_plans.items()):
            if record["closed_on"] is None:
                outstanding = [a for a, action in record["actions"].items() if not action.get("completed_on")]
                if outstanding:
                    self.send(k.ReviewActionPlan(contract=contract, plan=plan, completed=outstanding, reviewed_on=day,
                                                 notes="Every action verified as complete at the follow-up visit."), self.officer, at(day, 10, minute))
                self.send(k.CloseActionPlan(contract=contract, plan=plan, closed_on=day), self.officer, at(day, 10, minute + 1))
                minute += 2
        self.send(k.DeEscalateContract(contract=contract, reason="Improvement evidenced: the latest quality monitoring visit was not Red."), self.officer, at(day, 10, minute))

    def scores_for(self, rag: str) -> dict[str, int]:
        """Scores on the 1-4 scale that give the wanted outcome under the framework's thresholds."""
        rng = self.rng
        scores: dict[str, int] = {}
        for iid, critical in self.indicators:
            if rag == "green":
                scores[iid] = rng.choice((3, 3, 4, 4, 4))
            elif rag == "amber":
                scores[iid] = rng.choice((3, 3, 3, 3, 4))
            else:
                scores[iid] = rng.choice((2, 3, 3))
        ids = [iid for iid, _ in self.indicators]
        if rag == "green":
            for iid in rng.sample(ids, k=rng.randint(0, 2)):
                scores[iid] = 2
        elif rag == "amber":
            for iid in rng.sample(ids, k=rng.randint(4, 10)):
                scores[iid] = 2
        else:
            critical = [iid for iid, crit in self.indicators if crit]
            scores[rng.choice(critical)] = 1
        return scores

