"""Deterministic, realistic sales data for every sandbox: one ``Fake(seed)`` per data set.

The same seed always gives the same people, companies, deals and notes, so tests can
name what they expect and the demo looks the same every time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

FIRST = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "Oliver",
    "Ava",
    "Elijah",
    "Sophia",
    "Lucas",
    "Mia",
    "Mateo",
    "Isabella",
    "Levi",
    "Charlotte",
    "Asher",
    "Harper",
    "James",
    "Evelyn",
    "Leo",
    "Luna",
    "Ethan",
    "Aria",
    "Henry",
    "Ella",
    "Benjamin",
    "Nora",
    "Priya",
    "Arjun",
    "Ananya",
    "Rohan",
    "Mei",
    "Wei",
    "Hiroshi",
    "Yuki",
    "Sofia",
    "Diego",
    "Lucia",
    "Javier",
    "Fatima",
    "Omar",
    "Amara",
    "Kwame",
    "Ingrid",
    "Lars",
    "Freya",
    "Sven",
    "Chloe",
    "Jack",
    "Grace",
    "Samuel",
    "Zoe",
    "Daniel",
    "Hannah",
    "Owen",
    "Isla",
    "Theo",
    "Maya",
    "Felix",
    "Ruby",
    "Hugo",
    "Clara",
    "Max",
    "Nina",
    "Adam",
    "Lea",
    "Jonas",
    "Emil",
    "Aisha",
    "Tariq",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Shah",
    "Kumar",
    "Chen",
    "Wang",
    "Tanaka",
    "Sato",
    "Müller",
    "Schmidt",
    "Novak",
    "Larsen",
    "Okafor",
    "Mensah",
    "Haddad",
    "Costa",
    "Silva",
    "Rossi",
    "Dubois",
    "Moreau",
    "Kowalski",
    "Andersson",
    "O'Brien",
]
COMPANY_A = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Cyberdyne",
    "Tyrell",
    "Aperture",
    "Massive",
    "Dynamic",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Blue",
    "Sky",
    "Redwood",
    "Pinnacle",
    "Summit",
    "Harbor",
    "Granite",
    "Cobalt",
    "Evergreen",
    "Lighthouse",
    "Meridian",
    "Atlas",
    "Nimbus",
    "Vertex",
    "Orion",
    "Polar",
    "Silverline",
    "Bright",
    "Keystone",
    "Crescent",
    "Falcon",
    "Juniper",
    "Maple",
    "Quantum",
    "Sterling",
]
COMPANY_B = [
    "Labs",
    "Systems",
    "Logistics",
    "Foods",
    "Analytics",
    "Health",
    "Robotics",
    "Energy",
    "Partners",
    "Software",
    "Media",
    "Capital",
    "Networks",
    "Dynamics",
    "Solutions",
    "Manufacturing",
    "Retail",
    "Bio",
    "Works",
    "Group",
]
_NAME_PAIRS = len(COMPANY_A) * len(COMPANY_B)
COMPANY_SUFFIX = ("Inc", "Ltd", "GmbH", "LLC", "plc", "Co", "SA", "BV")
INDUSTRIES = (
    "Software",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Financial Services",
    "Logistics",
    "Education",
    "Energy",
    "Media",
    "Hospitality",
    "Telecommunications",
    "Biotech",
)
CITIES = (
    ("London", "United Kingdom"),
    ("Manchester", "United Kingdom"),
    ("Berlin", "Germany"),
    ("Munich", "Germany"),
    ("Paris", "France"),
    ("Amsterdam", "Netherlands"),
    ("New York", "United States"),
    ("Austin", "United States"),
    ("Chicago", "United States"),
    ("San Francisco", "United States"),
    ("Toronto", "Canada"),
    ("Sydney", "Australia"),
    ("Bangalore", "India"),
    ("Singapore", "Singapore"),
    ("Dublin", "Ireland"),
)
TITLES = (
    "CEO",
    "CTO",
    "CFO",
    "VP Sales",
    "Head of Operations",
    "Procurement Manager",
    "IT Director",
    "Marketing Manager",
    "Office Manager",
    "Product Lead",
    "Founder",
    "Finance Director",
    "Sales Operations Analyst",
    "Head of People",
)
DEAL_KINDS = (
    "annual licence",
    "renewal",
    "expansion",
    "pilot",
    "onboarding package",
    "enterprise upgrade",
    "support contract",
    "multi-year agreement",
    "add-on seats",
)
TASK_SUBJECTS = (
    "Call {first} about pricing",
    "Send proposal to {company}",
    "Follow up with {first}",
    "Book demo for {company}",
    "Prepare quote for {company}",
    "Check in after trial",
    "Send contract to {first}",
    "Intro call with {first}",
    "Review security questionnaire",
    "Confirm budget with {first}",
    "Share case study with {company}",
)
NOTE_BODIES = (
    "{first} confirmed budget is approved for Q{q}. Decision expected by end of month.",
    "Spoke with {first}: they are comparing us with two other vendors. Price is the main concern.",
    "Demo went well. {first} wants a follow-up with their IT team about SSO.",
    "{company} asked for a 10% discount on a two-year term. Checking with finance.",
    "Left a voicemail for {first}. Will try again Thursday.",
    "Legal review of the contract started. {first} expects redlines next week.",
    "{first} introduced us to the procurement lead. Sent over the security pack.",
    "Trial usage is strong: 14 active users in the first week.",
    "Meeting moved to next Tuesday at {first}'s request.",
    "{company} is restructuring; the project may slip a quarter.",
)
CALL_OUTCOMES = ("Connected", "Left voicemail", "No answer", "Busy", "Wrong number")


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str
    phone: str
    title: str
    city: str
    country: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    industry: str
    size: int
    city: str
    country: str
    phone: str

    @property
    def website(self) -> str:
        return f"https://www.{self.domain}"


class Fake:
    """A seeded source of realistic values, anchored at ``now``.

    ``now`` defaults to a fixed moment so that data sets (and snapshots) are repeatable;
    the demo passes the real time so that "today" and "overdue" mean what they say.
    """

    NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __init__(self, seed: int = 0, now: datetime | None = None) -> None:
        self.rng = random.Random(seed)
        self.now = now or self.NOW
        self._companies: set[str] = set()

    def pick(self, seq: Sequence[T]) -> T:
        return self.rng.choice(seq)

    def phone(self) -> str:
        r = self.rng
        return f"+1 {r.randint(200, 989)}-{r.randint(200, 999)}-{r.randint(1000, 9999)}"

    def company(self) -> Company:
        name = f"{self.pick(COMPANY_A)} {self.pick(COMPANY_B)}"
        tries = 0 if len(self._companies) > _NAME_PAIRS // 2 else 20
        while name in self._companies and tries:
            name = f"{self.pick(COMPANY_A)} {self.pick(COMPANY_B)}"
            tries -= 1
        if name in self._companies:  # the pairs are used up: number the branches
            name = f"{name} {len(self._companies) + 2}"
        self._companies.add(name)
        full = f"{name} {self.pick(COMPANY_SUFFIX)}"
        domain = name.lower().replace(" ", "") + self.pick((".com", ".io", ".co.uk", ".de", ".net"))
        city, country = self.pick(CITIES)
        return Company(
            full,
            domain,
            self.pick(INDUSTRIES),
            self.pick((8, 25, 60, 150, 400, 1200, 5000)),
            city,
            country,
            self.phone(),
        )

    def person(self, company: Company | None = None) -> Person:
        first, last = self.pick(FIRST), self.pick(LAST)
        domain = company.domain if company else self.pick(("gmail.com", "outlook.com", "proton.me"))
        local = f"{first}.{last}".lower().replace("'", "").replace("ü", "u")
        city, country = (company.city, company.country) if company else self.pick(CITIES)
        return Person(
            first, last, f"{local}@{domain}", self.phone(), self.pick(TITLES), city, country
        )

    def deal_name(self, company: Company) -> str:
        short = company.name.rsplit(" ", 1)[0]
        return f"{short} {self.pick(DEAL_KINDS)}"

    def amount(self) -> int:
        """A deal value in major units, rounded the way reps round them."""
        base = self.pick((1200, 2500, 4800, 7500, 12000, 18000, 25000, 40000, 65000, 120000))
        return int(round(base * self.rng.uniform(0.7, 1.4), -2))

    def task_subject(self, person: Person, company: Company) -> str:
        return self.pick(TASK_SUBJECTS).format(first=person.first, company=company.name)

    def note(self, person: Person, company: Company) -> str:
        return self.pick(NOTE_BODIES).format(
            first=person.first, company=company.name, q=self.rng.randint(1, 4)
        )

    def past(self, days: int = 365) -> datetime:
        """A moment in the last ``days`` days, with sub-second precision."""
        return self.now - timedelta(seconds=self.rng.uniform(0, days * 86400))

    def future_date(self, days: int = 120) -> date:
        return (self.now + timedelta(days=self.rng.randint(-10, days))).date()

    def between(self, start: datetime, end: datetime) -> datetime:
        if end <= start:
            return start
        return start + timedelta(seconds=self.rng.uniform(0, (end - start).total_seconds()))
