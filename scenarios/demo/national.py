"""The national demo: England's CQC directory of care homes, for scale (seed 000 s.6.1.2).

The CMS is "an online directory of all CQC registered nursing homes in England", synced
daily with CQC. This scale imports about 15,000 care home locations across the 42 ICBs
through the CQC importer, then runs the daily sync for `years`: re-inspections (about a
third of homes a year), registered manager changes, new homes registering and homes
closing (deregistered). No framework or returns: it measures the ledger at national size.
"""

from __future__ import annotations

from datetime import date, timedelta

from scenarios.demo.builder import DemoScale, Progress, Sender, at, days
from domain.kernel.metadata import Actor
from scenarios.demo.world import ENGLAND_ICBS, RATINGS, Home, cqc_record, historic, make_homes, pick

BATCH = 500


class NationalDemo(DemoScale):
    name = "national"

    def __init__(self, sender: Sender, *, seed: int, years: int, locations: int, progress: Progress) -> None:
        super().__init__(sender, seed=seed, years=years, progress=progress)
        self.region_of: dict[str, str] = {}
        places = []
        for region, icbs in ENGLAND_ICBS.items():
            for icb in icbs:
                self.region_of[icb] = region
                # The local authority stands in for the ICB's first place name.
                places.append((icb, icb.split(",")[0].split(" and ")[0], "ZZ99"))
        categories = [pick(self.rng, (("older_people", 0.8), ("learning_disability", 0.12), ("mental_health", 0.06), ("physical_disability_sensory_impairment", 0.02))) for _ in range(locations)]
        self.providers, self.homes = make_homes(
            self.rng, locations, places, nursing_share=0.3, categories=categories, registered_before=self.start,
            people=self.people, first_year=self.first,
        )
        self.cqc = Actor(id="cqc-sync", org="aqp-ledger", role="system")
        self.closed: set[str] = set()
        self.history: dict[str, list[dict]] = {}

    def record(self, home: Home, **changes: object) -> dict:
        icb = f"NHS {home.icb} Integrated Care Board"
        record = cqc_record(home, region=self.region_of[home.icb], icb_name=icb, history=self.history.get(home.location_id))
        record.update(changes)
        return record

    def build(self) -> None:
        opened = date(self.first, 1, 2)
        self.progress.start("CQC directory")
        for i in range(0, len(self.homes), BATCH):
            batch = self.homes[i : i + BATCH]
            self.sender.import_cqc([self.record(h) for h in batch], self.cqc, at(opened, 6, min(59, i // BATCH)), batch=f"initial-{i // BATCH}")
            self.progress.update(i + len(batch), len(self.homes), f"{i + len(batch)} locations")
        self.progress.finish(f"{len(self.homes)} locations")
        total = (self.end - opened).days
        self.progress.start(f"daily CQC sync {self.first}-{self.end.year - 1}")
        for n, day in enumerate(days(opened + timedelta(days=1), self.end)):
            self.sync_day(day)
            self.progress.update(n, total, f"{day} commands {self.sender.sent}")
        self.sender.follow_processes()
        self.progress.finish(f"{self.sender.sent} commands")

    def sync_day(self, day: date) -> None:
        """One day's CQC changes: each home has a small chance of each kind of change."""
        rng = self.rng
        if day.weekday() >= 5:
            return  # CQC publishes on working days
        changed: list[dict] = []
        for home in self.homes:
            if home.location_id in self.closed:
                continue
            roll = rng.random()
            if roll < 0.0013:  # about a third of homes re-inspected a year
                if home.rating:
                    self.history.setdefault(home.location_id, []).insert(0, historic(home.rating, home.rating_date))
                home.rating, home.rating_date = pick(rng, RATINGS), day - timedelta(days=rng.randint(7, 28))
                changed.append(self.record(home))
            elif roll < 0.0019:  # a new registered manager
                home.manager = self.people.new(home.provider.domain, prefix="rm")
                changed.append(self.record(home))
            elif roll < 0.00198:  # the home closes
                self.closed.add(home.location_id)
                changed.append(self.record(home, registrationStatus="Deregistered", deregistrationDate=day.isoformat()))
        if changed:
            self.sender.import_cqc(changed, self.cqc, at(day, 6), batch=day.isoformat())
            if any(r.get("currentRatings", {}).get("overall", {}).get("rating") == "Inadequate" for r in changed):
                self.sender.performance_failures()  # a critical failure on any contract holding the home
