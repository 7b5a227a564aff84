"""Plain data shapes of a demo tenant and small generators shared by the four tenant modules (no Django)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from random import Random
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PASSWORD = "demo12345"  # noqa: S105 (printed on purpose: demo data only)


def weekly(spans: Sequence[str], *, sunday: Sequence[str] | None = None,
           saturday: Sequence[str] | None = None, closed: Sequence[str] = ()) -> dict[str, Any]:
    """Same spans every day, optionally other spans on Saturday/Sunday and closed days."""
    hours: dict[str, Any] = {day: list(spans) for day in DAYS}
    if saturday is not None:
        hours["sat"] = list(saturday)
    if sunday is not None:
        hours["sun"] = list(sunday)
    for day in closed:
        hours[day] = []
    return hours


ALWAYS_OPEN: dict[str, Any] = {"always": True}


@dataclass(frozen=True)
class StoreSpec:
    code: str
    name: str
    address: str
    city: str
    region: str
    latitude: float
    longitude: float
    phone: str
    time_zone: str
    opening_hours: dict[str, Any]


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    kind: str
    email: str
    region: str = ""


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    names: dict[str, str]
    parent: str = ""
    department: str = ""
    schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class PromotionSpec:
    title: str
    starts_on: date
    ends_on: date
    texts: dict[str, str]
    store_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class VacancySpec:
    position: str
    city: str
    text: str
    store_code: str = ""


@dataclass(frozen=True)
class HolidaySpec:
    date: date
    name: str
    spans: tuple[str, ...] = ()
    region: str = ""


@dataclass(frozen=True)
class ExceptionSpec:
    store_code: str
    date: date
    spans: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class UserSpec:
    """A demo login; role is "admin" or a linia.core.models.Role value."""

    username: str
    first_name: str
    last_name: str
    role: str
    language: str
    time_zone: str
    department: str = ""
    store: str = ""
    is_staff: bool = False
    note: str = ""


@dataclass(frozen=True)
class Reporter:
    """Who contacts the line: a name with a phone and/or an email."""

    name: str
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class TicketContext:
    """What a ticket template may mention; filled per ticket from the seeded directory."""

    store: StoreSpec | None
    product: str
    reporter: Reporter
    rng: Random


FieldsFn = Callable[[TicketContext], dict[str, Any]]


@dataclass(frozen=True)
class TicketTemplate:
    """One kind of request: texts may use {store}, {address}, {city}, {product}, {name}, {order}, {n}."""

    category: str
    subject: str
    body: str
    channels: tuple[str, ...]
    reply: str = ""
    note: str = ""
    follow_up: str = ""
    fields: FieldsFn | None = None
    priority: str = "normal"
    needs_store: bool = True
    from_store_staff: bool = False  # reported by a store employee rather than a customer
    department: str = ""  # "@region": the regional department of the ticket's store
    weight: int = 1
    tags: tuple[str, ...] = ()


@dataclass
class TenantSpec:
    slug: str
    name: str
    language: str
    time_zone: str
    prefix: str
    stores: list[StoreSpec]
    departments: list[DepartmentSpec]
    categories: list[CategorySpec]
    templates: list[TicketTemplate]
    users: list[UserSpec]
    reporter: Callable[[Random], Reporter]
    staff_reporter: Callable[[Random, StoreSpec], Reporter]
    region_department: Callable[[StoreSpec], str] = lambda store: ""
    products: list[ProductSpec] = field(default_factory=list)
    stock_for_all_stores: bool = False
    promotions: list[PromotionSpec] = field(default_factory=list)
    vacancies: list[VacancySpec] = field(default_factory=list)
    holidays: list[HolidaySpec] = field(default_factory=list)
    exceptions: list[ExceptionSpec] = field(default_factory=list)
    ticket_share: int = 1  # relative share of the demo's tickets
    settings: dict[str, Any] = field(default_factory=dict)


def pick_weighted(rng: Random, items: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def jitter(rng: Random, lat: float, lon: float, spread: float) -> tuple[float, float]:
    """A point near the city centre (spread in degrees of latitude)."""
    return round(lat + rng.uniform(-spread, spread), 6), round(lon + rng.uniform(-spread, spread) * 1.5, 6)


def digits(rng: Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def slug_ascii(text: str) -> str:
    """Latin transliteration good enough for demo e-mail local parts."""
    table = str.maketrans({
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
        "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
        "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "",
        "э": "e", "ю": "yu", "я": "ya", "ą": "a", "ć": "c", "ę": "e", "ł": "l", "ń": "n", "ó": "o", "ś": "s",
        "ź": "z", "ż": "z", "é": "e", "è": "e", "ê": "e", "ë": "e", "à": "a", "â": "a", "ç": "c", "î": "i",
        "ï": "i", "ô": "o", "û": "u", "ù": "u", "ü": "u", "œ": "oe", " ": "-", "'": "",
    })
    return text.lower().translate(table)


_HOURS_WORDS = {
    "ru": ("круглосуточно", "ежедневно", "выходной", ("пн", "вт", "ср", "чт", "пт", "сб", "вс")),
    "pl": ("całodobowo", "codziennie", "nieczynne", ("pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz.")),
    "fr": ("24h/24, 7j/7", "tous les jours", "fermé", ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")),
    "en": ("24/7", "daily", "closed", ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")),
}


def describe_hours(hours: dict[str, Any], language: str) -> str:
    """A one-line summary of a weekly schedule for reply texts: "пн–сб 06:00-22:00; вс выходной"."""
    always, every_day, closed, names = _HOURS_WORDS.get(language, _HOURS_WORDS["en"])
    if hours.get("always"):
        return always
    per_day = [", ".join(hours.get(day) or []) or closed for day in DAYS]
    if len(set(per_day)) == 1:
        return f"{every_day} {per_day[0]}"
    groups: list[tuple[int, int, str]] = []  # runs of consecutive days with the same hours
    for i, text in enumerate(per_day):
        if groups and groups[-1][2] == text:
            groups[-1] = (groups[-1][0], i, text)
        else:
            groups.append((i, i, text))
    return "; ".join(f"{names[a]}–{names[b]} {text}" if a != b else f"{names[a]} {text}" for a, b, text in groups)
