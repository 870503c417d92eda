"""The demo's synthetic world: commissioners, providers, care homes and people, from a seed.

Everything here is drawn from one `random.Random(seed)` in a fixed order, so the same seed
gives the same world. Places are real (London's five ICBs and the 32 borough directorates,
Nottingham City, England's 42 ICBs); homes, providers and people are made up from word
lists, so no real home or person is named. CQC-like ids follow CQC's shape (`1-` and ten
digits for a location, nine for a provider).

The world is plain data; the demo's scenarios turn it into commands (`scenarios/demo/london.py`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# -------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Icb:
    code: str
    name: str
    #: the directorates (boroughs) in its area, with a postcode district typical of each
    boroughs: tuple[tuple[str, str], ...]

    @property
    def org(self) -> str:
        return f"ICB-{self.code}"

    @property
    def full_name(self) -> str:
        return f"NHS {self.name} Integrated Care Board"


#: The five London ICBs (the CCGs of seed 000 until July 2022) and their 32 borough directorates.
LONDON_ICBS: tuple[Icb, ...] = (
    Icb("NCL", "North Central London", (("Barnet", "N12"), ("Camden", "NW5"), ("Enfield", "EN2"), ("Haringey", "N17"), ("Islington", "N7"))),
    Icb("NEL", "North East London", (
        ("City and Hackney", "E8"), ("Newham", "E13"), ("Tower Hamlets", "E3"), ("Waltham Forest", "E17"),
        ("Barking and Dagenham", "RM9"), ("Havering", "RM11"), ("Redbridge", "IG1"),
    )),
    Icb("NWL", "North West London", (
        ("Brent", "NW10"), ("Ealing", "W5"), ("Hammersmith and Fulham", "W6"), ("Harrow", "HA1"), ("Hillingdon", "UB8"),
        ("Hounslow", "TW3"), ("Kensington and Chelsea", "W10"), ("Westminster", "W9"),
    )),
    Icb("SEL", "South East London", (
        ("Bexley", "DA6"), ("Bromley", "BR1"), ("Greenwich", "SE9"), ("Lambeth", "SW16"), ("Lewisham", "SE6"), ("Southwark", "SE15"),
    )),
    Icb("SWL", "South West London", (
        ("Croydon", "CR0"), ("Kingston upon Thames", "KT2"), ("Merton", "SW19"), ("Richmond upon Thames", "TW9"), ("Sutton", "SM1"),
        ("Wandsworth", "SW18"),
    )),
)

#: England's 42 ICBs by NHS region (the national scale spreads its locations over them).
ENGLAND_ICBS: dict[str, tuple[str, ...]] = {
    "North East and Yorkshire": ("North East and North Cumbria", "Humber and North Yorkshire", "South Yorkshire", "West Yorkshire"),
    "North West": ("Cheshire and Merseyside", "Greater Manchester", "Lancashire and South Cumbria"),
    "Midlands": (
        "Birmingham and Solihull", "Black Country", "Coventry and Warwickshire", "Derby and Derbyshire",
        "Herefordshire and Worcestershire", "Leicester, Leicestershire and Rutland", "Lincolnshire", "Northamptonshire",
        "Nottingham and Nottinghamshire", "Shropshire, Telford and Wrekin", "Staffordshire and Stoke-on-Trent",
    ),
    "East of England": (
        "Bedfordshire, Luton and Milton Keynes", "Cambridgeshire and Peterborough", "Hertfordshire and West Essex",
        "Mid and South Essex", "Norfolk and Waveney", "Suffolk and North East Essex",
    ),
    "London": tuple(icb.name for icb in LONDON_ICBS),
    "South East": (
        "Buckinghamshire, Oxfordshire and Berkshire West", "Frimley", "Hampshire and Isle of Wight", "Kent and Medway",
        "Surrey Heartlands", "Sussex",
    ),
    "South West": (
        "Bath and North East Somerset, Swindon and Wiltshire", "Bristol, North Somerset and South Gloucestershire",
        "Cornwall and the Isles of Scilly", "Devon", "Dorset", "Gloucestershire", "Somerset",
    ),
}

# ------------------------------------------------------------------------ word lists

FIRST_NAMES = (
    "Adaeze", "Aisha", "Alan", "Amara", "Amir", "Ana", "Andrew", "Anjali", "Bola", "Bronwen", "Carlos", "Catherine", "Chidi",
    "Chloe", "Daniel", "Deepa", "Derek", "Dimitra", "Efua", "Elena", "Emeka", "Emma", "Farah", "Femi", "Fiona", "Gareth",
    "Grace", "Hamza", "Hannah", "Harpreet", "Ifeoma", "Imran", "Irene", "Jamal", "Janet", "Joanna", "Joseph", "Kemi",
    "Kwame", "Lakshmi", "Laura", "Leon", "Lucy", "Mariam", "Marek", "Maria", "Michael", "Nadia", "Naledi", "Nikhil",
    "Nora", "Olu", "Patricia", "Paul", "Priya", "Rachel", "Rafael", "Rekha", "Rosa", "Ruth", "Samir", "Sandra", "Sean",
    "Shirin", "Simon", "Sofia", "Stephen", "Tamara", "Tariq", "Teresa", "Tomasz", "Uche", "Valerie", "Wei", "Yasmin", "Zainab",
)
SURNAMES = (
    "Abiola", "Adeyemi", "Ahmed", "Ali", "Anderson", "Asante", "Baker", "Banerjee", "Boateng", "Brennan", "Campbell", "Chen",
    "Clarke", "Costa", "Da Silva", "Davies", "Demir", "Edwards", "Evans", "Fernandes", "Fletcher", "Gallagher", "Ghosh",
    "Green", "Hall", "Haque", "Hughes", "Ibrahim", "Iqbal", "Jackson", "James", "Joseph", "Kaur", "Khan", "Kowalski",
    "Lewis", "Lin", "Martin", "Mensah", "Mitchell", "Moreno", "Murphy", "Nair", "Nowak", "Nwosu", "O'Brien", "Okafor",
    "Okonkwo", "Owusu", "Papadopoulos", "Patel", "Phillips", "Popescu", "Quinn", "Rahman", "Reid", "Roberts", "Santos",
    "Shah", "Singh", "Smith", "Taylor", "Thomas", "Turner", "Walker", "Ward", "Williams", "Wilson", "Wright", "Yilmaz",
)
HOME_WORDS = (
    "Alder", "Amberley", "Ashgrove", "Aspen", "Beech", "Birchfield", "Blossom", "Bramble", "Brook", "Cedar", "Chestnut",
    "Clover", "Copper", "Cranbourne", "Dove", "Elm", "Fairhaven", "Fern", "Foxglove", "Glenfield", "Hawthorn", "Hazel",
    "Heather", "Holly", "Juniper", "Kestrel", "Lark", "Laurel", "Lavender", "Lime Tree", "Linden", "Magnolia", "Maple",
    "Meadow", "Mulberry", "Oak", "Orchard", "Poplar", "Primrose", "Riverside", "Rowan", "Sandringham", "Silver Birch",
    "Sycamore", "Thornbury", "Westbrook", "Willow", "Woodlands", "Wren", "Yew Tree",
)
HOME_KINDS = ("House", "Lodge", "Court", "Manor", "Nursing Home", "Care Centre", "Grange", "Gardens", "View", "Park")
PROVIDER_KINDS = ("Care", "Healthcare", "Care Homes", "Care Group", "Nursing Care", "Senior Living")
STREETS = (
    "Church Road", "Park Lane", "Station Road", "High Street", "Victoria Road", "The Avenue", "Manor Road", "Grove Road",
    "Kings Road", "Queens Road", "Mill Lane", "Albert Road", "Green Lane", "London Road", "Elm Grove", "Springfield Road",
)

#: CQC's overall ratings, and how often a care home holds each (roughly England's pattern)
RATINGS = (("Outstanding", 0.05), ("Good", 0.72), ("Requires improvement", 0.20), ("Inadequate", 0.03))
KEY_QUESTIONS = ("Safe", "Effective", "Caring", "Responsive", "Well-led")

#: How a home reports its monthly returns (seed 000 s.6.2.1: 75% by the deadline and 95%
#: within three months is the KPI; most homes are punctual, a few are chronically late).
PUNCTUALITY = {
    # profile: (share of homes, chance a return is on time, lateness range in days when late, chance it never comes)
    "punctual": (0.62, 0.90, (1, 12), 0.0),
    "erratic": (0.31, 0.62, (2, 60), 0.004),
    "chronic": (0.07, 0.10, (20, 160), 0.25),
}


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[-1][0]


# -------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    #: an opaque id (personal data is stored under it, erasably)
    id: str
    name: str
    email: str


class People:
    """Synthetic people: unique names, each with an opaque id."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.count = 0

    def new(self, org_domain: str, *, prefix: str = "u") -> Person:
        # Unique names while the lists allow (a large world shares names, as people do).
        for _ in range(20):
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
            name = f"{first} {last}"
            if name not in self.used:
                break
        self.used.add(name)
        self.count += 1
        handle = f"{first}.{last}".lower().replace("'", "").replace(" ", "-")
        return Person(id=f"{prefix}-{handle}-{self.count}", name=name, email=f"{handle}{self.count}@{org_domain}")


# -------------------------------------------------------------------- homes, providers


@dataclass
class Home:
    location_id: str
    provider: "Provider"
    name: str
    icb: str  # ICB code, e.g. NCL (or the ICB's name at national scale)
    borough: str  # the directorate or local authority
    postcode: str
    street: str
    beds: int
    #: beds by CMS bed type (seed 000 s.6.1.2)
    bed_mix: dict[str, int]
    nursing: bool
    category: str
    registered_on: date
    manager: Person
    rating: str
    rating_date: date
    #: how it reports: punctual, erratic or chronic
    punctuality: str
    #: the chance it reports its vacancies on a weekday
    vacancy_diligence: float
    phone: str
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Provider:
    provider_id: str
    name: str
    brand: str | None
    homes: list[Home] = field(default_factory=list)
    #: technical quality of its tenders, 2-5 (drives evaluators' scores)
    quality: int = 3
    #: "strong", "weak" (needs a parent company guarantee) or "failing" (no guarantee offered)
    finances: str = "strong"
    #: the year it enters the market (a new provider tenders in that year's round)
    enters: int = 0

    @property
    def slug(self) -> str:
        return self.name.lower().replace(" ", "-").replace("'", "")

    @property
    def domain(self) -> str:
        return f"{self.slug.replace('-ltd', '')}.example.co.uk"


class Ids:
    """CQC-shaped ids, unique within the world."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _new(self, digits: int) -> str:
        while True:
            value = f"1-{self.rng.randrange(10 ** (digits - 1), 10 ** digits)}"
            if value not in self.used:
                self.used.add(value)
                return value

    def location(self) -> str:
        return self._new(10)

    def provider(self) -> str:
        return self._new(9)


class Names:
    """Unique home and provider names."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.homes: set[str] = set()
        self.providers: set[str] = set()

    def home(self) -> str:
        return self._unique(self.homes, HOME_KINDS, "")

    def provider(self) -> str:
        return self._unique(self.providers, PROVIDER_KINDS, " Ltd")

    def _unique(self, used: set[str], kinds: tuple[str, ...], suffix: str) -> str:
        for attempt in range(400):
            # One word while they last, then two (a national world needs thousands of names).
            words = self.rng.choice(HOME_WORDS) if attempt < 100 else f"{self.rng.choice(HOME_WORDS)} {self.rng.choice(HOME_WORDS)}"
            name = f"{words} {self.rng.choice(kinds)}{suffix}"
            if name not in used:
                used.add(name)
                return name
        name = f"{name[: -len(suffix) or None]} {len(used)}{suffix}"  # pragma: no cover - beyond ~100,000 names
        used.add(name)
        return name


def provider_sizes(rng: random.Random, homes: int) -> list[int]:
    """How many homes each provider runs: a few national groups, some small groups, many single homes."""
    sizes: list[int] = []
    left = homes
    while left > 0:
        roll = rng.random()
        size = rng.randint(6, 12) if roll < 0.04 else rng.randint(2, 5) if roll < 0.30 else 1
        size = min(size, left)
        sizes.append(size)
        left -= size
    return sizes


def bed_mix(rng: random.Random, beds: int, nursing: bool) -> dict[str, int]:
    if not nursing:
        dementia = rng.randint(0, beds // 2)
        return {"nursing": 0, "nursing_dementia": 0, "residential": beds - dementia, "residential_dementia": dementia}
    nursing_beds = max(1, int(beds * rng.uniform(0.45, 0.8)))
    nursing_dementia = rng.randint(0, beds - nursing_beds)
    rest = beds - nursing_beds - nursing_dementia
    residential_dementia = rng.randint(0, rest)
    return {
        "nursing": nursing_beds,
        "nursing_dementia": nursing_dementia,
        "residential": rest - residential_dementia,
        "residential_dementia": residential_dementia,
    }


@dataclass
class World:
    seed: int
    providers: list[Provider]
    homes: list[Home]
    people: People
    rng: random.Random

    def home(self, location_id: str) -> Home:
        return next(h for h in self.homes if h.location_id == location_id)


def make_homes(
    rng: random.Random,
    count: int,
    places: list[tuple[str, str, str]],
    *,
    nursing_share: float,
    categories: list[str],
    registered_before: date,
    people: People,
    first_year: int,
    new_entrant_share: float = 0.0,
    years: int = 1,
) -> tuple[list[Provider], list[Home]]:
    """`count` homes spread over `places` (ICB, borough, postcode district), with their providers.

    `categories` is the category of each home in order (its length is `count`), so a caller
    can fix the mix (Nottingham's 41/13/3/26).
    """
    ids, names = Ids(rng), Names(rng)
    providers: list[Provider] = []
    homes: list[Home] = []
    for size in provider_sizes(rng, count):
        name = names.provider()
        group = size >= 6
        provider = Provider(
            provider_id=ids.provider(),
            name=name,
            brand=f"BRAND {name[:-4]}" if group else None,
            quality=rng.choice((3, 3, 4, 4, 4, 5, 2)),
            finances="weak" if rng.random() < 0.07 else "failing" if rng.random() < 0.02 else "strong",
        )
        if years > 1 and rng.random() < new_entrant_share:
            provider.enters = rng.randint(1, years - 1)
        # A group's homes cluster in one or two ICBs, as real groups do.
        home_places = rng.sample(places, k=min(len(places), 2)) if size > 1 else [rng.choice(places)]
        for _ in range(size):
            icb, borough, district = rng.choice(home_places) if rng.random() < 0.8 else rng.choice(places)
            nursing = rng.random() < nursing_share
            beds = rng.randint(28, 110) if nursing else rng.randint(12, 60)
            home = Home(
                location_id=ids.location(),
                provider=provider,
                name=names.home(),
                icb=icb,
                borough=borough,
                postcode=f"{district} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXY')}{rng.choice('ABDEFGHJLNPQRSTUWXY')}",
                street=f"{rng.randint(1, 240)} {rng.choice(STREETS)}",
                beds=beds,
                bed_mix=bed_mix(rng, beds, nursing),
                nursing=nursing,
                category=categories[len(homes)],
                registered_on=date(rng.randint(first_year - 25, first_year - 1), rng.randint(1, 12), rng.randint(1, 28))
                if provider.enters == 0
                else date(first_year + provider.enters - 1, rng.randint(3, 11), rng.randint(1, 28)),
                manager=people.new(provider.domain, prefix="rm"),
                # A new home is not rated until CQC first inspects it.
                rating=pick(rng, RATINGS[:3]) if provider.enters == 0 else "",
                # CQC re-inspects a care home every one to three years.
                rating_date=date(first_year - rng.randint(1, 2), rng.randint(1, 12), rng.randint(1, 28)),
                punctuality=pick(rng, tuple((name_, share) for name_, (share, *_rest) in PUNCTUALITY.items())),
                vacancy_diligence=rng.uniform(0.55, 0.98),
                phone=f"020 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}",
            )
            if home.registered_on > registered_before and provider.enters == 0:
                home.registered_on = registered_before
            provider.homes.append(home)
            homes.append(home)
        providers.append(provider)
    # Punctuality by quota, not by independent draws: a few dozen homes would otherwise give
    # anything from no chronic late reporter to several times the intended share.
    order = list(range(len(homes)))
    rng.shuffle(order)
    quotas = [(profile, share) for profile, (share, *_rest) in PUNCTUALITY.items()]
    start = 0.0
    for profile, share in quotas:
        first, last = round(start * len(homes)), round((start + share) * len(homes))
        for index in order[first:last]:
            homes[index].punctuality = profile
        start += share
    return providers, homes


# --------------------------------------------------------------------- CQC records


def cqc_record(home: Home, *, region: str, icb_name: str, rating: str | None = None, rating_date: date | None = None,
               manager: Person | None = None, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A location record in the shape of the CQC public API (`/public/v1/locations/{id}`)."""
    manager = manager or home.manager
    given, _, family = manager.name.partition(" ")
    contacts = [{"personTitle": "M", "personGivenName": given, "personFamilyName": family, "personRoles": ["Registered Manager"]}]
    activities = [
        {"name": "Accommodation for persons who require nursing or personal care", "code": "RA2", "contacts": contacts},
    ]
    if home.nursing:
        activities.append({"name": "Treatment of disease, disorder or injury", "code": "RA5", "contacts": contacts})
    specialisms = {
        "older_people": ["Caring for adults over 65 yrs", "Dementia"],
        "mental_health": ["Caring for adults under 65 yrs", "Mental health conditions"],
        "physical_disability_sensory_impairment": ["Caring for adults under 65 yrs", "Physical disabilities", "Sensory impairments"],
        "learning_disability": ["Caring for adults under 65 yrs", "Learning disabilities", "Autism"],
    }[home.category]
    rating = rating if rating is not None else home.rating
    rating_date = rating_date or home.rating_date
    record: dict[str, Any] = {
        "locationId": home.location_id,
        "providerId": home.provider.provider_id,
        "organisationType": "Location",
        "type": "Social Care Org",
        "name": home.name,
        "registrationStatus": "Registered",
        "registrationDate": home.registered_on.isoformat(),
        "numberOfBeds": home.beds,
        "postalAddressLine1": home.street,
        "postalAddressTownCity": "London" if region == "London" else home.borough,
        "postalCode": home.postcode,
        "region": region,
        "localAuthority": home.borough,
        "onspdIcbName": icb_name,
        "careHome": "Y",
        "mainPhoneNumber": home.phone,
        "regulatedActivities": activities,
        "gacServiceTypes": [
            {"name": "Nursing homes", "description": "Care home service with nursing"}
            if home.nursing
            else {"name": "Residential homes", "description": "Care home service without nursing"}
        ],
        "specialisms": [{"name": s} for s in specialisms],
        "historicRatings": history or [],
    }
    if rating:
        record["currentRatings"] = {
            "overall": {
                "rating": rating,
                "reportDate": rating_date.isoformat(),
                "keyQuestionRatings": [
                    {"name": q, "rating": rating, "reportDate": rating_date.isoformat()} for q in KEY_QUESTIONS
                ],
            },
            "reportDate": rating_date.isoformat(),
        }
    if home.provider.brand:
        record["brandId"] = f"BD{int(home.provider.provider_id[2:]) % 1000:03d}"
        record["brandName"] = home.provider.brand
    return record


def historic(rating: str, rating_date: date) -> dict[str, Any]:
    """A superseded rating as CQC lists it under `historicRatings`."""
    return {
        "reportDate": rating_date.isoformat(),
        "overall": {"rating": rating, "keyQuestionRatings": [{"name": q, "rating": rating} for q in KEY_QUESTIONS]},
    }
