"""The London demo's homes once they are live, month by month: what the demo remembers of each
home (`HomeState`, its residents' `Placement`s) and what happens there (`HomeLife`, a part of
`LondonDemo`: monthly quality and placement returns, on time or late or missed; outbreaks,
suspensions, concerns, manager changes and re-inspections; one home's escalation to
termination and another's improvement). The procurement rounds, the contracts and the daily
vacancies are `london.py`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from domain.contracts import commands as k
from domain.kernel.metadata import Actor
from domain.monitoring import commands as rc
from domain.monitoring.periods import due_on
from domain.providers import commands as pc
from scenarios.demo.builder import add_months, at
from scenarios.demo.world import PUNCTUALITY, Home, Person, historic, pick

FRAMEWORK = "AQP-CH-LONDON"
TEMPLATE = "london-aqp-care-home-monthly"
END_REASONS = (("died", 0.62), ("admitted_to_hospital", 0.08), ("moved_to_another_home", 0.1), ("discharged_home", 0.08), ("funding_ended", 0.12))


@dataclass
class Placement:
    reference: str
    icb: str
    bed_type: str
    start: date
    end: date | None = None
    end_reason: str | None = None
    enhanced: int | None = None  # an agreed rate above the AQP rate (pence a week)


@dataclass
class HomeState:
    """What the demo remembers about a home between commands (never read back from the ledger)."""

    home: Home
    index: int
    live_from: date | None = None
    live_until: date | None = None
    contract: str | None = None
    vacancies: dict[str, int] = field(default_factory=dict)
    placements: list[Placement] = field(default_factory=list)
    next_placement: int = 1
    residents: int = 0
    staff: tuple[int, int, int] = (0, 0, 0)
    suspended_until: date | None = None
    outbreak: tuple[date, str] | None = None
    manager_changed_on: date | None = None
    contact: Person | None = None
    rating: str = ""
    rating_date: date | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    referrals_suspended: bool = False
    submitted: set[str] = field(default_factory=set)

    def live_for_month(self, month: date) -> bool:
        end = add_months(month, 1) - timedelta(days=1)
        return self.live_from is not None and self.live_from <= month and (self.live_until is None or self.live_until > end)

    def live_on(self, day: date) -> bool:
        return self.live_from is not None and self.live_from <= day and (self.live_until is None or day < self.live_until)


class HomeLife:
    """What happens at the homes of `LondonDemo` month by month (its methods, kept apart by subject)."""

    def plan_month(self, month: date) -> None:
        """At the start of a month: the events of the month, and last month's returns."""
        rng = self.rng
        previous = add_months(month, -1)
        period = f"{previous.year:04d}-{previous.month:02d}"
        deadline = due_on(self.template, period)
        for state in self.states.values():
            if state.live_for_month(previous):
                self.plan_returns(state, previous, period, deadline, month)
            state.manager_changed_on = None
            state.outbreak = None
            if state.live_on(month):
                self.plan_month_events(state, month)

    def plan_returns(self, state: HomeState, previous: date, period: str, deadline: date, month: date) -> None:
        """When last month's returns will come in, if at all (the home's punctuality), and what they say."""
        rng = self.rng
        self.missed_due.setdefault(deadline + timedelta(days=1), []).append((state, period))
        profile = PUNCTUALITY[state.home.punctuality]
        _, on_time, (late_min, late_max), never = profile
        if rng.random() < never:
            return
        if rng.random() < on_time:
            submit = deadline - timedelta(days=rng.randint(0, 9))
            submit = max(submit, month)
        else:
            submit = deadline + timedelta(days=rng.randint(late_min, late_max))
        values, comments, answers = self.quality_values(state, previous)
        placements = self.placement_rows(state, previous)
        self.timeline.schedule(at(submit, 10 + state.index % 6), lambda s=state, p=period, v=values, cm=comments, a=answers, pl=placements, d=submit: self.submit_returns(s, p, v, cm, a, pl, d))

    def submit_returns(self, state: HomeState, period: str, values: dict[str, Any], comments: dict[str, str], answers: dict[str, str], placements: list[rc.Placement], day: date) -> None:
        home = self.home_actor(state)
        hour = 10 + state.index % 6
        self.send(rc.SubmitReturn(location=state.home.location_id, template=TEMPLATE, version=1, period=period, values=values, comments=comments, answers=answers), home, at(day, hour, 0))
        state.submitted.add(period)
        self.send(rc.SubmitPlacementReturn(location=state.home.location_id, framework=FRAMEWORK, period=period, placements=placements), home, at(day, hour, 20))
        rng = self.rng
        manager = self.managers[state.home.icb]
        if rng.random() < 0.02:
            amended = dict(values, falls=values["falls"] + 1)
            later = day + timedelta(days=rng.randint(1, 4))
            self.timeline.schedule(at(later, 16), lambda: self.send(rc.AmendReturn(
                location=state.home.location_id, template=TEMPLATE, version=1, period=period, values=amended, comments=comments, answers=answers,
                reason="A night-time fall was missing from the count; found in the night log audit.",
            ), home, at(later, 16)))
        if comments and rng.random() < 0.4:
            reviewed = day + timedelta(days=rng.randint(5, 12))
            note = rng.choice(("Thank you for the context; noted for the dashboard.", "Please tell us next month what actions followed."))
            self.timeline.schedule(at(reviewed, 17), lambda: self.send(rc.ReviewReturn(
                location=state.home.location_id, template=TEMPLATE, version=1, period=period,
                outcome="accepted" if note.startswith("Thank") else "queried", note=note,
            ), manager, at(reviewed, 17)))

    # ------------------------------------------------------------------ the month's events

    def plan_month_events(self, state: HomeState, month: date) -> None:
        rng = self.rng
        home = state.home
        winter = month.month in (12, 1, 2, 3)
        if state.outbreak is None and state.suspended_until is None and rng.random() < (0.07 if winter else 0.02):
            day = month + timedelta(days=rng.randint(0, 20))
            organism = rng.choice(("respiratory", "respiratory", "norovirus") if winter else ("norovirus", "respiratory", "c_difficile", "other"))
            state.outbreak = (day, organism)
            until = day + timedelta(days=rng.randint(8, 21))
            state.suspended_until = until
            name = {"respiratory": "influenza / COVID-19", "norovirus": "norovirus", "c_difficile": "C. difficile", "other": "scabies"}[organism]
            self.timeline.schedule(at(day, 12), lambda day=day, name=name: self.send(pc.SuspendPlacements(
                location=home.location_id, from_date=day, reason=f"Outbreak of {name} declared with the UKHSA health protection team.",
            ), self.home_actor(state), at(day, 12)))

            def lift(until: date = until) -> None:
                self.send(pc.LiftSuspension(location=home.location_id, reason="Outbreak declared over by the UKHSA health protection team."), self.home_actor(state), at(until, 12))
                state.suspended_until = None

            self.timeline.schedule(at(until, 12), lift)
        if rng.random() < 0.015:
            day = month + timedelta(days=rng.randint(0, 26))
            new = self.people.new(home.provider.domain, prefix="rm")
            self.timeline.schedule(at(day, 6), lambda new=new, day=day: self.change_manager(state, new, day))
        if state.rating_date and (month - state.rating_date).days > 540 and rng.random() < 0.08:
            day = month + timedelta(days=rng.randint(0, 26))
            rating = pick(rng, (("Outstanding", 0.05), ("Good", 0.74), ("Requires improvement", 0.21)))
            self.timeline.schedule(at(day, 6), lambda day=day, rating=rating: self.rerate(state, day, rating))
        if rng.random() < 0.004:
            day = month + timedelta(days=rng.randint(0, 20))
            manager = self.managers[home.icb]

            def concern(day: date = day) -> None:
                result = self.send(pc.ShareConcern(
                    location=home.location_id, kind=rng.choice(("safeguarding", "quality_of_care", "staffing")),
                    summary="A family raised concerns about call bell response times at night; the safeguarding team is looking into it.",
                ), manager, at(day, 13))
                assert result.value is not None
                resolved = day + timedelta(days=rng.randint(14, 40))
                self.timeline.schedule(at(resolved, 13), lambda: self.send(pc.ResolveConcern(
                    location=home.location_id, concern=result.value["concern"],
                    outcome="Night staffing reviewed with the home; call bell audit satisfactory at follow-up visit.",
                ), manager, at(resolved, 13)))

            self.timeline.schedule(at(day, 13), concern)

    def change_manager(self, state: HomeState, new: Person, day: date) -> None:
        """A new registered manager: CQC's record changes (the sync), the home updates its contact."""
        old = state.contact
        state.home.manager = new
        self.sender.import_cqc([self.record(state)], self.cqc, at(day, 6), batch=day.isoformat())
        state.manager_changed_on = day
        if old is not None and state.live_on(day):
            home = self.home_actor(state)

            def update_contact() -> None:
                # The home keeps its CMS contact up to date itself (seed 000 s.6.1.2).
                self.send(pc.RemoveLocationContact(location=state.home.location_id, contact=old.id), home, at(day, 16))
                self.send(pc.AddLocationContact(location=state.home.location_id, contact=new.id, role="home manager", name=new.name, email=new.email), home, at(day, 16, 1))
                state.contact = new

            self.timeline.schedule(at(day, 16), update_contact)

    def rerate(self, state: HomeState, day: date, rating: str) -> None:
        if state.rating and state.rating_date:
            state.history.insert(0, historic(state.rating, state.rating_date))
        state.rating, state.rating_date = rating, day - timedelta(days=self.rng.randint(7, 21))
        self.sender.import_cqc([self.record(state)], self.cqc, at(day, 6), batch=day.isoformat())
        self.sender.follow_processes()  # an Inadequate rating is a critical performance failure

    # ------------------------------------------------------------------ returns' contents

    def quality_values(self, state: HomeState, month: date) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
        rng = self.rng
        home = state.home
        state.residents = max(1, min(home.beds, state.residents + rng.randint(-3, 3)))
        residents = state.residents
        pu = [rng.choice((0, 0, 0, 0, 1)) for _ in range(6)]
        outbreaks = {"outbreaks_mrsa": 0, "outbreaks_c_difficile": 0, "outbreaks_norovirus": 0, "outbreaks_respiratory": 0, "outbreaks_other": 0}
        comments: dict[str, str] = {}
        infected = 0
        if state.outbreak is not None:
            day, organism = state.outbreak
            outbreaks[f"outbreaks_{organism}"] = 1
            infected = min(residents, rng.randint(2, max(3, residents // 4)))
            comments[f"outbreaks_{organism}"] = f"Outbreak declared on {day.isoformat()} with the UKHSA team; admissions paused until it was declared over."
        falls = rng.randint(0, max(1, residents // 5))
        fell = min(falls, rng.randint(0, falls), residents)
        if falls >= residents // 5 and falls > 3:
            comments["falls"] = "Falls higher than usual; residents who fell more than once were referred to the falls clinic."
        complaints = rng.choice((0, 0, 0, 1, 1, 2))
        nurses, carers, others = state.staff
        nurses = max(3, nurses + rng.choice((-1, 0, 0, 1)))
        carers = max(10, carers + rng.randint(-2, 2))
        others = max(4, others + rng.choice((-1, 0, 1)))
        state.staff = (nurses, carers, others)
        suspended = state.contract is not None and state.referrals_suspended
        values: dict[str, Any] = {
            "residents": residents,
            "admissions_status": "closed_by_commissioners" if suspended else "closed_by_home" if state.outbreak else "open",
            "pressure_ulcers_total": sum(pu),
            "pu_grade3_acquired": pu[0], "pu_grade3_on_admission": pu[1], "pu_grade4_acquired": pu[2],
            "pu_grade4_on_admission": pu[3], "pu_ungradable_acquired": pu[4], "pu_ungradable_on_admission": pu[5],
            "outbreaks_total": sum(outbreaks.values()), **outbreaks,
            "residents_infected": infected,
            "serious_incidents_cqc": rng.choice((0, 0, 0, 0, 1)),
            "falls": falls,
            "residents_who_fell": fell,
            "hospital_admissions": rng.randint(0, max(1, residents // 12)),
            "ambulance_callouts": rng.randint(0, max(1, residents // 8)),
            "complaints_received": complaints,
            "complaints_upheld": rng.randint(0, complaints),
            "compliments": rng.randint(0, 8),
            "safeguarding_alerts": rng.choice((0, 0, 0, 1)),
            "staff_total": nurses + carers + others,
            "nurses": nurses,
            "care_staff": carers,
            "other_staff": others,
            "agency_hours_percent": round(rng.uniform(0, 22), 1),
            "starters": rng.randint(0, 4),
            "leavers": rng.randint(0, 4),
            "vacancies": rng.randint(0, 6),
            "turnover_percent": round(rng.uniform(8, 38), 1),
            "registered_manager_in_post": True,
        }
        if state.manager_changed_on is not None and state.manager_changed_on.month == month.month:
            values["manager_changed_on"] = state.manager_changed_on.isoformat()
            comments["manager_changed_on"] = "New registered manager started; registration confirmed by CQC."
        answers: dict[str, str] = {}
        if month.month in (6, 12):
            answers = {
                "q_end_of_life": "Advance care plans are reviewed with every resident and family at admission and every six months; the local hospice team trains our nurses.",
                "q_hospital_avoidance": "We use the RESTORE2 deterioration tool, weekly GP ward rounds and the rapid response team before calling 999.",
            }
        return values, comments, answers

    def new_placement(self, state: HomeState, start: date) -> Placement:
        rng = self.rng
        beds = [bed for bed, n in state.home.bed_mix.items() if n]
        bed = rng.choice([b for b in beds if b.startswith("nursing")] or beds)
        icb = state.home.icb if rng.random() < 0.85 else rng.choice(sorted(self.icbs))
        ref = f"{state.home.name.split()[0][:3].upper()}-{state.next_placement:04d}"
        state.next_placement += 1
        enhanced = rng.randint(115_000, 140_000) if rng.random() < 0.04 else None
        return Placement(reference=ref, icb=f"ICB-{icb}", bed_type=bed, start=start, enhanced=enhanced)

    def placement_rows(self, state: HomeState, month: date) -> list[rc.Placement]:
        """The month's CHC placements: every one open during the month, ended ones with their end."""
        rng = self.rng
        end_of_month = add_months(month, 1) - timedelta(days=1)
        # Placements that ended last month have been reported with their end; they leave the return.
        state.placements = [p for p in state.placements if p.end is None or p.end >= month]
        for p in state.placements:
            if p.end is None and rng.random() < 0.035:
                p.end = month + timedelta(days=rng.randint(0, (end_of_month - month).days))
                p.end = max(p.end, p.start)
                p.end_reason = pick(rng, END_REASONS)
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            state.placements.append(self.new_placement(state, month + timedelta(days=rng.randint(0, (end_of_month - month).days))))
        rows = []
        for p in state.placements:
            rate = p.enhanced or self.rate_on(max(p.start, month), p.bed_type)
            rows.append(rc.Placement(
                reference=p.reference, icb=p.icb, bed_type=p.bed_type, weekly_rate=rate, start_date=p.start.isoformat(),
                end_date=p.end.isoformat() if p.end else None, end_reason=p.end_reason,
                rate_explanation="One-to-one enhanced care agreed with the ICB's CHC team." if p.enhanced else None,
            ))
        return rows

    # ------------------------------------------------------------------ escalation stories

    def plan_escalation(self, state: HomeState, go_live: date) -> None:
        """A home rated Inadequate; its contract climbs the ladder to termination (seed 004's stages)."""
        rated = go_live + timedelta(days=75)
        contract = self.rerated(state, rated, "Inadequate")
        rti = rated + timedelta(days=1)
        steps: list[tuple[date, int, Any]] = [
            (rti, 10, k.EscalateContract(contract=contract, to_stage="requirement_to_improve", due=rti + timedelta(days=42),
                                         reason="CQC rated the home Inadequate overall (safe and well-led); a critical performance failure.")),
            (rti, 11, k.OpenActionPlan(contract=contract, plan="RTI-1", actions=[
                k.PlannedAction(id="A1", description="Retrain all staff in medicines administration", owner_role="registered manager", due=rti + timedelta(days=28)),
                k.PlannedAction(id="A2", description="Raise night staffing to the dependency tool's level", owner_role="registered manager", due=rti + timedelta(days=21)),
                k.PlannedAction(id="A3", description="Rewrite every resident's care plan with the resident and family", owner_role="care plan lead", due=rti + timedelta(days=42)),
            ])),
            (rti + timedelta(days=30), 15, k.ReviewActionPlan(contract=contract, plan="RTI-1", completed=["A2"], reviewed_on=rti + timedelta(days=30),
                                                              notes="Night rotas meet the dependency tool; medicines training records incomplete.")),
            (rti + timedelta(days=45), 10, k.EscalateContract(contract=contract, to_stage="contract_suspension", due=rti + timedelta(days=100),
                                                              reason="Requirement to improve not met: medicines training and care plans outstanding.")),
            (rti + timedelta(days=100), 10, k.EscalateContract(contract=contract, to_stage="final_notice_90_day", due=rti + timedelta(days=192),
                                                               reason="Suspension did not secure the improvements: 90-day final notice served.")),
            (rti + timedelta(days=193), 9, k.TerminateContract(contract=contract, reason_kind="default", effective_on=rti + timedelta(days=193),
                                                               reason="90-day final notice expired without remedy; residents supported to move under the provider failure procedure.")),
        ]
        self.schedule_contract_steps(state, steps)

    def plan_improvement(self, state: HomeState, go_live: date) -> None:
        """A home required to improve after a poor re-inspection, which does, and is de-escalated."""
        rated = go_live + timedelta(days=130)
        contract = self.rerated(state, rated, "Requires improvement")
        day0 = rated + timedelta(days=3)
        steps: list[tuple[date, int, Any]] = [
            (day0, 10, k.EscalateContract(contract=contract, to_stage="requirement_to_improve", due=day0 + timedelta(days=56),
                                          reason="CQC rated the home Requires improvement (safe); pressure ulcers acquired in the home rising.")),
            (day0, 11, k.OpenActionPlan(contract=contract, plan="RTI-1", actions=[
                k.PlannedAction(id="A1", description="Tissue viability training for all nurses", owner_role="clinical lead", due=day0 + timedelta(days=28)),
                k.PlannedAction(id="A2", description="Repositioning charts audited weekly", owner_role="deputy manager", due=day0 + timedelta(days=42)),
            ])),
            (day0 + timedelta(days=50), 15, k.ReviewActionPlan(contract=contract, plan="RTI-1", completed=["A1", "A2"], reviewed_on=day0 + timedelta(days=50),
                                                               notes="Training records seen for every nurse; four weekly audits show charts complete.")),
            (day0 + timedelta(days=50), 16, k.CloseActionPlan(contract=contract, plan="RTI-1", closed_on=day0 + timedelta(days=50))),
            (day0 + timedelta(days=51), 10, k.DeEscalateContract(contract=contract, reason="Improvement evidenced: every action completed and verified at a visit.")),
        ]
        self.schedule_contract_steps(state, steps)

    def rerated(self, state: HomeState, day: date, rating: str) -> str:
        """Schedule CQC's new rating of the home on `day`; the contract a story then acts on."""
        contract = state.contract
        assert contract is not None
        self.timeline.schedule(at(day, 6), lambda: self.rerate(state, day, rating))
        return contract

    def schedule_contract_steps(self, state: HomeState, steps: list[tuple[date, int, Any]]) -> None:
        """Each (day, hour, command) sent by the home's ICB contract manager then."""
        manager = self.managers[state.home.icb]
        for day, hour, command in steps:
            self.timeline.schedule(at(day, hour), lambda day=day, hour=hour, command=command: self.contract_step(state, command, manager, day, hour))

    def contract_step(self, state: HomeState, command: Any, manager: Actor, day: date, hour: int) -> None:
        self.send(command, manager, at(day, hour))
        if isinstance(command, k.EscalateContract) and command.to_stage == "contract_suspension":
            state.referrals_suspended = True
        if isinstance(command, k.TerminateContract):
            # The home leaves the AQP: no more vacancy reporting or returns under it.
            state.live_until = day
