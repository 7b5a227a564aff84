"""Writing audit log rows (configuration and ticket changes)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from linia.core.models import AuditLog, Tenant


def record(actor: Any, action: str, obj: Model, *, tenant: Tenant | int | None = None,
           changes: dict[str, Any] | None = None) -> AuditLog:
    tenant_id = tenant if isinstance(tenant, int) or tenant is None else tenant.pk
    if tenant_id is None:
        tenant_id = getattr(obj, "tenant_id", None)
    return AuditLog.objects.create(
        tenant_id=tenant_id,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk or ""),
        object_repr=str(obj)[:200],
        changes=_jsonable(changes or {}),
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
