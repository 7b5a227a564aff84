"""Stores (with opening hours), departments, categories, products, stock, promotions, vacancies."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linia.core.models import TenantOwned, validate_time_zone


class Store(TenantOwned):
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=120, db_index=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    # Weekly schedule as in linia.directory.hours: {"mon": ["08:00-22:00"], ...} or {"always": true}
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["city", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="store_tenant_code")]
        # Lets the directory's per-request "did the stores change?" aggregate read only this index.
        indexes = [models.Index(fields=["tenant", "updated_at"], name="store_tenant_updated")]
        verbose_name = _("store")
        verbose_name_plural = _("stores")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StoreHoursException(TenantOwned):
    """A dated change of one store's hours; empty spans mean closed all day."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="hour_exceptions")
    date = models.DateField(_("date"))
    spans = models.JSONField(_("hours"), default=list, blank=True)  # ["10:00-16:00"]; [] = closed
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "date"], name="store_exception_date")]
        verbose_name = _("store hours exception")

    def __str__(self) -> str:
        return f"{self.store.code} {self.date}"


class Holiday(TenantOwned):
    """A tenant-wide (or one region's) holiday; applies to every store unless a store exception overrides."""

    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200)
    region = models.CharField(_("region"), max_length=120, blank=True, help_text=_("Empty: all regions."))
    spans = models.JSONField(_("hours"), default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "date", "region"], name="holiday_unique")]
        verbose_name = _("holiday")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class DepartmentKind(models.TextChoices):
    CUSTOMER_RELATIONS = "customer_relations", _("Customer relations")
    HR = "hr", _("HR")
    ACCOUNTING = "accounting", _("Accounting")
    TECHNICAL = "technical", _("Technical service")
    REGIONAL = "regional", _("Regional office")
    STORE_OPS = "store_ops", _("Store operations")
    OTHER = "other", _("Other")


class Department(TenantOwned):
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=DepartmentKind.choices, default=DepartmentKind.OTHER)
    email = models.EmailField(_("email"), blank=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="department_tenant_code")]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Category(TenantOwned):
    """Request categories as a tree; custom fields of its tickets are validated by field_schema."""

    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("parent"))
    code = models.CharField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    names = models.JSONField(_("names by language"), default=dict, blank=True)
    default_department = models.ForeignKey(Department, on_delete=models.SET_NULL, null=True, blank=True,
                                           verbose_name=_("default department"))
    field_schema = models.JSONField(_("custom fields (JSON Schema)"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="category_tenant_code")]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def localized_name(self, language: str) -> str:
        return str(self.names.get(language) or self.name)


class Product(TenantOwned):
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=300)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "sku"], name="product_tenant_sku")]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Stock(TenantOwned):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="stock")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock")
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "product"], name="stock_store_product")]
        verbose_name = _("stock")
        verbose_name_plural = _("stock")

    def __str__(self) -> str:
        return f"{self.store_id}/{self.product_id}: {self.quantity}"


class Promotion(TenantOwned):
    title = models.CharField(_("title"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    stores = models.ManyToManyField(Store, blank=True, help_text=_("Empty: all stores."))
    texts = models.JSONField(_("text by language"), default=dict, blank=True)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")

    def __str__(self) -> str:
        return self.title


class Vacancy(TenantOwned):
    position = models.CharField(_("position"), max_length=200)
    store = models.ForeignKey(Store, on_delete=models.SET_NULL, null=True, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    text = models.TextField(_("text"), blank=True)
    is_open = models.BooleanField(_("open"), default=True)

    class Meta:
        ordering = ["position"]
        verbose_name = _("vacancy")
        verbose_name_plural = _("vacancies")

    def __str__(self) -> str:
        return self.position
