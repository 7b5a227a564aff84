"""Writing a demo tenant's directory, users and memberships; idempotent by natural keys (slug, code, sku)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from random import Random

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from linia.core.models import Membership, Role, Tenant, User
from linia.demo.common import PASSWORD, StoreSpec, TenantSpec, UserSpec
from linia.directory.models import (
    Category,
    Department,
    Holiday,
    Product,
    Promotion,
    Stock,
    Store,
    StoreHoursException,
    Vacancy,
)

SMALL_STORES = 120
BATCH = 1000
ADMIN = UserSpec("admin", "Platform", "Admin", "admin", "en", "Europe/Moscow", is_staff=True,
                 note="platform administrator (superuser)")
# One agent works for two tenants: the hotline sells the same operators to several clients.
MULTI_AGENT = UserSpec("agent-multi", "Ирина", "Ковальская", "agent", "ru", "Europe/Moscow",
                       note="ru/pl, member of two tenants")
MULTI_AGENT_TENANTS = ("vostok-market", "dyskont-pl")


@dataclass
class Login:
    username: str
    role: str
    tenants: list[str]
    note: str
    password: str = PASSWORD


def stores_for(spec: TenantSpec, small: bool) -> list[StoreSpec]:
    """All stores, or in --small mode an evenly spread subset (always including the first store)."""
    if not small or len(spec.stores) <= SMALL_STORES:
        return spec.stores
    step = len(spec.stores) // SMALL_STORES
    return spec.stores[::step][:SMALL_STORES]


def seed_tenant(spec: TenantSpec, *, small: bool) -> Tenant:
    tenant, _ = Tenant.objects.update_or_create(slug=spec.slug, defaults={
        "name": spec.name, "default_language": spec.language, "time_zone": spec.time_zone,
        "ticket_prefix": spec.prefix, "settings": spec.settings, "is_active": True,
    })
    stores = _seed_stores(tenant, stores_for(spec, small))
    _seed_departments(tenant, spec)
    _seed_categories(tenant, spec)
    _seed_products_and_stock(tenant, spec, stores)
    _seed_calendar(tenant, spec, stores)
    _seed_promotions_and_vacancies(tenant, spec, stores)
    return tenant


def _seed_stores(tenant: Tenant, specs: list[StoreSpec]) -> dict[str, int]:
    existing = dict(Store.objects.filter(tenant=tenant).values_list("code", "id"))
    missing = [Store(tenant=tenant, code=s.code, name=s.name, address=s.address, city=s.city, region=s.region,
                     latitude=s.latitude, longitude=s.longitude, phone=s.phone, time_zone=s.time_zone,
                     opening_hours=s.opening_hours)
               for s in specs if s.code not in existing]
    Store.objects.bulk_create(missing, batch_size=BATCH)
    return dict(Store.objects.filter(tenant=tenant).values_list("code", "id"))


def _seed_departments(tenant: Tenant, spec: TenantSpec) -> None:
    for d in spec.departments:
        Department.objects.get_or_create(tenant=tenant, code=d.code, defaults={
            "name": d.name, "kind": d.kind, "email": d.email, "region": d.region})


def _seed_categories(tenant: Tenant, spec: TenantSpec) -> None:
    departments = {d.code: d for d in Department.objects.filter(tenant=tenant)}
    created: dict[str, Category] = {c.code: c for c in Category.objects.filter(tenant=tenant)}
    for c in spec.categories:  # parents are listed before their children
        if c.code in created:
            continue
        created[c.code] = Category.objects.create(
            tenant=tenant, code=c.code, name=c.name, names=dict(c.names), parent=created.get(c.parent),
            default_department=departments.get(c.department), field_schema=c.schema)


def _seed_products_and_stock(tenant: Tenant, spec: TenantSpec, stores: dict[str, int]) -> None:
    existing = set(Product.objects.filter(tenant=tenant).values_list("sku", flat=True))
    Product.objects.bulk_create([Product(tenant=tenant, sku=p.sku, name=p.name, attributes=p.attributes)
                                 for p in spec.products if p.sku not in existing], batch_size=BATCH)
    if not spec.stock_for_all_stores or not spec.products:
        return
    products = list(Product.objects.filter(tenant=tenant, sku__in=[p.sku for p in spec.products])
                    .order_by("sku").values_list("id", flat=True))
    stocked = set(Stock.objects.filter(tenant=tenant).values_list("store_id", flat=True).distinct())
    rng = Random(f"{spec.slug}-stock")
    rows = [(tenant.pk, stores[code], product_id, 0 if rng.random() < 0.08 else rng.randrange(1, 180))
            for code in sorted(stores) if stores[code] not in stocked for product_id in products]
    _insert_stock(rows)


def _insert_stock(rows: list[tuple[int, int, int, int]]) -> None:
    """Plain executemany: bulk_create spends most of its time preparing ~80,000 identical-shaped rows."""
    if not rows:
        return
    fields = {f.name: f for f in Stock._meta.concrete_fields}
    quantity_field = fields["quantity"]
    now = fields["updated_at"].get_db_prep_save(timezone.now(), connection)
    quantities = {q: quantity_field.get_db_prep_save(Decimal(q), connection) for q in {row[3] for row in rows}}
    columns = ", ".join(connection.ops.quote_name(fields[name].column)
                        for name in ("tenant", "store", "product", "quantity", "updated_at"))
    sql = f"INSERT INTO {connection.ops.quote_name(Stock._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608 (names from model metadata)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, [(t, s, p, quantities[q], now) for t, s, p, q in rows[start:start + 5000]])


def _seed_calendar(tenant: Tenant, spec: TenantSpec, stores: dict[str, int]) -> None:
    for h in spec.holidays:
        Holiday.objects.update_or_create(tenant=tenant, date=h.date, region=h.region,
                                         defaults={"name": h.name, "spans": list(h.spans)})
    for e in spec.exceptions:
        if e.store_code in stores:
            StoreHoursException.objects.update_or_create(
                tenant=tenant, store_id=stores[e.store_code], date=e.date,
                defaults={"spans": list(e.spans), "note": e.note})


def _seed_promotions_and_vacancies(tenant: Tenant, spec: TenantSpec, stores: dict[str, int]) -> None:
    for p in spec.promotions:
        promo, _ = Promotion.objects.update_or_create(tenant=tenant, title=p.title, defaults={
            "starts_on": p.starts_on, "ends_on": p.ends_on, "texts": p.texts})
        promo.stores.set([stores[c] for c in p.store_codes if c in stores])
    for v in spec.vacancies:
        Vacancy.objects.update_or_create(tenant=tenant, position=v.position, city=v.city, defaults={
            "text": v.text, "store_id": stores.get(v.store_code), "is_open": True})


# --- users ------------------------------------------------------------------------------------

def seed_users(tenants: dict[str, tuple[Tenant, TenantSpec]]) -> list[Login]:
    """The admin, every tenant's people and the shared agent; passwords set only when a user is created."""
    hashed = make_password(PASSWORD)  # one hash for all demo users keeps seeding fast
    admin = _user(ADMIN, hashed)
    if not admin.is_superuser:
        admin.is_superuser = admin.is_staff = True
        admin.save(update_fields=["is_superuser", "is_staff"])
    logins = [Login(ADMIN.username, "platform admin", [], ADMIN.note)]
    for slug, (tenant, spec) in tenants.items():
        for person in spec.users:
            _member(_user(person, hashed), tenant, person)
            logins.append(Login(person.username, person.role, [slug], person.note))
    multi = [slug for slug in MULTI_AGENT_TENANTS if slug in tenants]
    if multi:
        agent = _user(MULTI_AGENT, hashed)
        for slug in multi:
            _member(agent, tenants[slug][0], MULTI_AGENT)
        logins.append(Login(MULTI_AGENT.username, MULTI_AGENT.role, multi, MULTI_AGENT.note))
    return logins


def _user(person: UserSpec, hashed: str) -> User:
    user, _ = User.objects.get_or_create(username=person.username, defaults={
        "first_name": person.first_name, "last_name": person.last_name, "password": hashed,
        "email": f"{person.username}@linia-demo.example", "language": person.language,
        "time_zone": person.time_zone, "is_staff": person.is_staff,
        "is_superuser": person.role == "admin",
    })
    return user


def _member(user: User, tenant: Tenant, person: UserSpec) -> Membership:
    department = Department.objects.filter(tenant=tenant, code=person.department).first() if person.department else None
    store = Store.objects.filter(tenant=tenant, code=person.store).first() if person.store else None
    membership, _ = Membership.objects.update_or_create(user=user, tenant=tenant, defaults={
        "role": Role(person.role), "department": department, "store": store})
    return membership
