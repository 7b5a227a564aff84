"""Directory state changes one object at a time (API, admin tools): permission, change, audit and event.

Bulk loads go through linia.directory.importing; both validate with linia.directory.import_rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.forms.models import model_to_dict

from linia.core import audit
from linia.core.errors import ActionError, NotFound
from linia.core.models import Tenant
from linia.core.permissions import Perm, require
from linia.directory.import_rows import STORE_FIELDS, clean_product, clean_store
from linia.directory.models import Product, Store
from linia.tickets.contacts import REGION_BY_LANGUAGE
from linia.tickets.events import emit

STORE_REQUIRED = ("code", "name", "city")
PRODUCT_FIELDS = ("sku", "name", "attributes")


def _check_perm(actor: Any, tenant: Tenant | int) -> None:
    if actor is not None:  # None = the system (imports, intake)
        require(actor, Perm.DIRECTORY_MANAGE, tenant)


def _field_errors(data: Mapping[str, Any], allowed: tuple[str, ...], required: tuple[str, ...],
                  creating: bool) -> dict[str, list[str]]:
    errors = {key: [f"unknown field; use one of {', '.join(allowed)}"] for key in data if key not in allowed}
    if creating:
        errors.update({key: [f"{key} is required"] for key in required if key not in data})
    return errors


def _taken(same_key: QuerySet[Any], current: Model | None) -> bool:
    """Another row of the tenant already has this code/SKU."""
    if current is not None:
        same_key = same_key.exclude(pk=current.pk)
    return same_key.exists()


def _changes(obj: Any, before: dict[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    for name, value in fields.items():
        setattr(obj, name, value)
    return audit.diff(before, dict(fields))


def save_store(actor: Any, tenant: Tenant, data: Mapping[str, Any], store: Store | None = None) -> Store:
    """Create a store (store=None) or change the given fields of one; "hours" may be text or the JSON.

    Raises ActionError("invalid_store", ..., fields) naming each bad field.
    """
    _check_perm(actor, tenant)
    if store is not None and store.tenant_id != tenant.pk:
        raise NotFound("store")
    values = dict(data)
    if "hours" in values and "opening_hours" not in values:
        values["opening_hours"] = values.pop("hours")
    errors = _field_errors(values, STORE_FIELDS, STORE_REQUIRED, creating=store is None)
    clean, problems = clean_store({k: v for k, v in values.items() if k in STORE_FIELDS},
                                  default_time_zone=tenant.time_zone,
                                  phone_region=REGION_BY_LANGUAGE.get(tenant.default_language, "RU"))
    errors.update({k: [v] for k, v in problems.items()})
    if "code" not in errors and "code" in clean and _taken(Store.objects.filter(tenant=tenant, code=clean["code"]),
                                                          store):
        errors["code"] = [f"code {clean['code']} is already used by another store of this tenant"]
    if errors:
        raise ActionError("invalid_store", "Check the store fields.", errors)
    obj = store or Store(tenant=tenant, time_zone=tenant.time_zone)
    _save_changed(actor, tenant, obj, clean, creating=store is None, event="store.saved", key="code")
    return obj


def delete_store(actor: Any, store: Store) -> None:
    """Delete a store with its stock and hour exceptions; tickets keep their text but lose the link."""
    _check_perm(actor, store.tenant_id)
    with transaction.atomic():
        audit.record(actor, "delete", store, tenant=store.tenant_id, changes={"code": store.code, "name": store.name})
        emit(store.tenant_id, "store.deleted", actor=actor, data={"store_id": store.pk, "code": store.code})
        store.delete()


def save_product(actor: Any, tenant: Tenant, data: Mapping[str, Any], product: Product | None = None) -> Product:
    """Create or change a product (sku, name, attributes: an object). ActionError("invalid_product") on bad input."""
    _check_perm(actor, tenant)
    if product is not None and product.tenant_id != tenant.pk:
        raise NotFound("product")
    errors = _field_errors(data, PRODUCT_FIELDS, ("sku", "name"), creating=product is None)
    clean, problems = clean_product({k: v for k, v in data.items() if k in PRODUCT_FIELDS})
    errors.update({k: [v] for k, v in problems.items()})
    if "sku" not in errors and "sku" in clean and _taken(Product.objects.filter(tenant=tenant, sku=clean["sku"]),
                                                        product):
        errors["sku"] = [f"SKU {clean['sku']} is already used by another product of this tenant"]
    if errors:
        raise ActionError("invalid_product", "Check the product fields.", errors)
    obj = product or Product(tenant=tenant)
    _save_changed(actor, tenant, obj, clean, creating=product is None, event="product.saved", key="sku")
    return obj


def delete_product(actor: Any, product: Product) -> None:
    """Delete a product and its stock rows."""
    _check_perm(actor, product.tenant_id)
    with transaction.atomic():
        audit.record(actor, "delete", product, tenant=product.tenant_id, changes={"sku": product.sku})
        emit(product.tenant_id, "product.deleted", actor=actor, data={"product_id": product.pk, "sku": product.sku})
        product.delete()


def _save_changed(actor: Any, tenant: Tenant, obj: Store | Product, clean: Mapping[str, Any], *, creating: bool,
                  event: str, key: str) -> None:
    """Apply `clean` to `obj` and save it with one audit row and one event; an unchanged object is left alone."""
    changes = _changes(obj, {} if creating else model_to_dict(obj, fields=list(clean)), clean)
    if not creating and not changes:
        return
    with transaction.atomic():
        obj.save()
        audit.record(actor, "create" if creating else "update", obj, tenant=tenant, changes=changes)
        emit(tenant.pk, event, actor=actor, data={f"{obj._meta.model_name}_id": obj.pk, key: getattr(obj, key),
                                                  "created": creating, "fields": sorted(changes)})
