"""QuickDrop: a same-day delivery service (the Gett Delivery case): hubs, order status, couriers, feedback, en."""

from __future__ import annotations

from datetime import date
from random import Random
from typing import Any

from linia.demo.common import (
    ALWAYS_OPEN,
    CategorySpec,
    DepartmentSpec,
    HolidaySpec,
    Reporter,
    StoreSpec,
    TenantSpec,
    TicketContext,
    TicketTemplate,
    UserSpec,
    VacancySpec,
    digits,
    weekly,
)

DOMAIN = "quickdrop.example"
_HUB_HOURS = weekly(["07:00-23:00"])

STORES = [
    StoreSpec("QD-LON-PR", "Hub London Park Royal", "Unit 4, Abbey Road Industrial Estate, London NW10 7SJ", "London",
              "Greater London", 51.5313, -0.2631, "+44 20 7946 0101", "Europe/London", ALWAYS_OPEN),
    StoreSpec("QD-LON-CR", "Hub London Croydon", "12 Purley Way, Croydon CR0 4XL", "London", "Greater London",
              51.3727, -0.1099, "+44 20 7946 0102", "Europe/London", _HUB_HOURS),
    StoreSpec("QD-MAN", "Hub Manchester Trafford Park", "Westinghouse Road, Trafford Park, Manchester M17 1AE",
              "Manchester", "Greater Manchester", 53.4697, -2.3170, "+44 161 496 0103", "Europe/London", _HUB_HOURS),
    StoreSpec("QD-BHM", "Hub Birmingham Digbeth", "88 Fazeley Street, Birmingham B5 5RD", "Birmingham",
              "West Midlands", 52.4776, -1.8857, "+44 121 496 0104", "Europe/London", _HUB_HOURS),
    StoreSpec("QD-LDS", "Hub Leeds Hunslet", "Penny Hill Drive, Leeds LS10 1EP", "Leeds", "West Yorkshire",
              53.7787, -1.5320, "+44 113 496 0105", "Europe/London", weekly(["08:00-22:00"], sunday=["10:00-18:00"])),
]

DEPARTMENTS = [
    DepartmentSpec("support", "Customer support", "customer_relations", f"support@{DOMAIN}"),
    DepartmentSpec("courier-ops", "Courier operations", "store_ops", f"couriers@{DOMAIN}"),
    DepartmentSpec("partners", "Partner accounts and billing", "accounting", f"billing@{DOMAIN}"),
    DepartmentSpec("recruitment", "Courier recruitment", "hr", f"join@{DOMAIN}"),
]

_ORDER = {"type": "string", "pattern": r"^QD-\d{7}$", "title": "Order ID"}
ORDER_SCHEMA = {"type": "object", "properties": {"order_id": _ORDER}, "required": ["order_id"]}
COURIER_SCHEMA = {"type": "object", "properties": {
    "order_id": _ORDER, "courier_id": {"type": "string", "pattern": r"^C\d{5}$", "title": "Courier ID"}},
    "required": ["courier_id"]}
FEEDBACK_SCHEMA = {"type": "object", "properties": {
    "order_id": _ORDER, "rating": {"type": "integer", "minimum": 1, "maximum": 5, "title": "Rating"}}}

CATEGORIES = [
    CategorySpec("order-status", "Order status", {}, "", "support", ORDER_SCHEMA),
    CategorySpec("order-late", "Late delivery", {}, "order-status", "support", ORDER_SCHEMA),
    CategorySpec("order-missing", "Missing or damaged items", {}, "order-status", "support", ORDER_SCHEMA),
    CategorySpec("courier", "Courier logistics", {}, "", "courier-ops", COURIER_SCHEMA),
    CategorySpec("courier-address", "Address problem", {}, "courier", "courier-ops", COURIER_SCHEMA),
    CategorySpec("courier-app", "Courier app issue", {}, "courier", "courier-ops", COURIER_SCHEMA),
    CategorySpec("feedback", "Feedback", {}, "", "support", FEEDBACK_SCHEMA),
    # faults reported by the hubs in the portal (linia.portal files them by these codes)
    CategorySpec("fault-equipment", "Equipment fault", {}, "", "courier-ops"),
    CategorySpec("fault-fittings", "Fittings (racks, doors, lockers)", {}, "", "courier-ops"),
    CategorySpec("fault-building", "Building", {}, "", "courier-ops"),
]
for _c in CATEGORIES:
    _c.names.setdefault("en", _c.name)

FIRST = ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Noah", "Sophie", "Mohammed", "Grace"]
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan", "Evans"]


def reporter(rng: Random) -> Reporter:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return Reporter(f"{first} {last}", f"+44 7{rng.choice(['400', '825', '850', '956'])} {digits(rng, 6)}",
                    f"{first.lower()}.{last.lower()}@mail.example" if rng.random() < 0.6 else "")


def staff_reporter(rng: Random, store: StoreSpec) -> Reporter:
    """A courier calling the line (couriers belong to a hub)."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return Reporter(f"{first} {last} (courier, {store.code})", f"+44 7{rng.choice(['400', '825'])} {digits(rng, 6)}")


def _order(ctx: TicketContext) -> dict[str, Any]:
    return {"order_id": f"QD-{digits(ctx.rng, 7)}"}


def _courier(ctx: TicketContext) -> dict[str, Any]:
    return {"order_id": f"QD-{digits(ctx.rng, 7)}", "courier_id": f"C{digits(ctx.rng, 5)}"}


def _feedback(ctx: TicketContext) -> dict[str, Any]:
    return {"order_id": f"QD-{digits(ctx.rng, 7)}", "rating": ctx.rng.choice([1, 2, 4, 5, 5])}


TEMPLATES = [
    TicketTemplate("order-late", "Where is my order {f_order_id}?",
                   "My parcel {f_order_id} was due between 14:00 and 16:00 and the tracking hasn't moved for two hours.",
                   ("chat", "call", "messenger"),
                   reply="Sorry for the wait, {name}. Your courier is 15 minutes away; we've refunded the delivery fee.",
                   follow_up="Still nothing at the door, can you call the courier?", fields=_order, weight=4),
    TicketTemplate("order-missing", "Item missing from order {f_order_id}",
                   "The bag arrived without the two bottles of milk I paid for.", ("chat", "email"),
                   reply="We've refunded the missing items to your card; it can take 3–5 working days.",
                   note="Hub to check the packing camera for this order.", fields=_order, weight=2),
    TicketTemplate("courier-address", "Courier can't find the address",
                   "Courier here: the customer's building has no number and the phone goes to voicemail.",
                   ("call", "messenger"), reply="Called the customer; gate code 2417, entrance from the car park.",
                   fields=_courier, from_store_staff=True, priority="high", weight=3),
    TicketTemplate("courier-app", "Courier app keeps logging me out",
                   "Since this morning's update the app logs me out at every drop-off.", ("call", "chat"),
                   reply="Known issue after version 5.2; please reinstall, a fix ships tonight.",
                   note="Raised with the app team.", fields=_courier, from_store_staff=True, weight=2),
    TicketTemplate("feedback", "Feedback on my delivery",
                   "The courier was great, very polite and left the parcel exactly where I asked.",
                   ("webform", "email", "sms"), reply="Thank you! We've passed your kind words on to the courier.",
                   fields=_feedback, needs_store=False, priority="low", weight=2),
]

USERS = [
    UserSpec("qd-supervisor", "James", "Walker", "supervisor", "en", "Europe/London"),
    UserSpec("qd-agent1", "Priya", "Shah", "agent", "en", "Europe/London"),
    UserSpec("qd-agent2", "Tomasz", "Zieliński", "agent", "en", "Europe/Warsaw", note="nearshore team, Kraków"),
    UserSpec("qd-hq", "Emma", "Clarke", "client_staff", "en", "Europe/London", department="support", is_staff=True,
             note="customer support lead, admin access"),
    UserSpec("qd-ops", "Daniel", "Hughes", "client_staff", "en", "Europe/London", department="courier-ops"),
    UserSpec("qd-store", "Ryan", "O'Neill", "store_staff", "en", "Europe/London", store="QD-LON-PR",
             note="hub lead, Park Royal"),
]


def spec(today: date) -> TenantSpec:
    year = today.year + (1 if today.month == 12 and today.day > 25 else 0)
    return TenantSpec(
        slug="quickdrop", name="QuickDrop", language="en", time_zone="Europe/London", prefix="QD",
        stores=list(STORES), departments=DEPARTMENTS, categories=CATEGORIES, templates=TEMPLATES, users=USERS,
        reporter=reporter, staff_reporter=staff_reporter,
        vacancies=[VacancySpec("Cargo-bike courier", "London", "Flexible shifts, weekly pay, bike provided.")],
        holidays=[HolidaySpec(date(year, 12, 25), "Christmas Day"),
                  HolidaySpec(date(year, 12, 26), "Boxing Day", ("10:00-18:00",))],
        ticket_share=12,
    )
