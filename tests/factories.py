"""Small builders for tests: real rows through the ORM or actions, no mocks."""

from __future__ import annotations

import itertools
from typing import Any

from linia.core.models import Membership, Role, Tenant, User
from linia.directory.models import Category, Department, Store

_seq = itertools.count(1)

WEEKDAYS_8_22 = {d: ["08:00-22:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def tenant(slug: str | None = None, **kw: Any) -> Tenant:
    n = next(_seq)
    slug = slug or f"t{n}"
    defaults = {"name": slug.title(), "time_zone": "Europe/Warsaw", "default_language": "pl",
                "ticket_prefix": ("T" + str(n)).upper()[:8] if not kw.get("ticket_prefix") else kw["ticket_prefix"]}
    defaults.update(kw)
    return Tenant.objects.create(slug=slug, **defaults)


def user(username: str | None = None, *, tenant: Tenant | None = None, role: str = Role.AGENT,
         store: Store | None = None, department: Department | None = None, superuser: bool = False,
         password: str = "pass12345") -> User:
    username = username or f"u{next(_seq)}"
    u = User.objects.create_user(username=username, password=password, is_superuser=superuser,
                                 is_staff=superuser)
    if tenant is not None:
        Membership.objects.create(user=u, tenant=tenant, role=role, store=store, department=department)
    return u


def store(t: Tenant, code: str | None = None, **kw: Any) -> Store:
    code = code or f"S{next(_seq)}"
    defaults = {"name": f"Store {code}", "city": "Warszawa", "time_zone": t.time_zone,
                "opening_hours": WEEKDAYS_8_22, "address": f"ul. Prosta {next(_seq)}"}
    defaults.update(kw)
    return Store.objects.create(tenant=t, code=code, **defaults)


def department(t: Tenant, code: str | None = None, **kw: Any) -> Department:
    code = code or f"D{next(_seq)}"
    defaults = {"name": f"Department {code}", "email": f"{code.lower()}@client.example"}
    defaults.update(kw)
    return Department.objects.create(tenant=t, code=code, **defaults)


def category(t: Tenant, code: str | None = None, **kw: Any) -> Category:
    code = code or f"c{next(_seq)}"
    defaults = {"name": f"Category {code}"}
    defaults.update(kw)
    return Category.objects.create(tenant=t, code=code, **defaults)
