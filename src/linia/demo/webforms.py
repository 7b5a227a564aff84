"""The case studies' web forms for the demo tenants (product complaint, vacancy application with a CV, food
pre-order within the store's hours, refund request), with fixed public keys "demo-<tenant slug>-<form>"
for the demo shop page, routed to the tenant's "Email and forms" queue (channel "ticket"). Idempotent: an existing
form (maybe edited in the admin) is kept, except that one without a queue (from an older demo) gets it."""

from __future__ import annotations

from typing import Any

from linia.core.models import Tenant
from linia.demo.contact_center import WRITTEN_QUEUE
from linia.directory.models import Category, Department, Vacancy
from linia.intake.webform.definition import parse
from linia.intake.webform.models import ROUTING_CHANNEL, WebForm
from linia.routing.models import Queue

T = dict[str, str]

L: dict[str, T] = {
    "name": {"en": "Your name", "ru": "Ваше имя", "pl": "Imię i nazwisko", "fr": "Votre nom"},
    "email": {"en": "Email", "ru": "Электронная почта", "pl": "E-mail", "fr": "E-mail"},
    "phone": {"en": "Phone", "ru": "Телефон", "pl": "Telefon", "fr": "Téléphone"},
    "store": {"en": "Store", "ru": "Магазин", "pl": "Sklep", "fr": "Magasin"},
    "pickup_date": {"en": "Pickup date", "ru": "Дата получения", "pl": "Data odbioru", "fr": "Date de retrait"},
    "pickup_time": {"en": "Pickup time", "ru": "Время получения", "pl": "Godzina odbioru", "fr": "Heure de retrait"},
    "items": {"en": "Your order", "ru": "Состав заказа", "pl": "Zamówienie", "fr": "Votre commande"},
    "comment": {"en": "Comment", "ru": "Комментарий", "pl": "Uwagi", "fr": "Commentaire"},
    "consent": {"en": "I agree that my data is processed to answer this request",
                "ru": "Я согласен(на) на обработку персональных данных для ответа на обращение",
                "pl": "Wyrażam zgodę na przetwarzanie moich danych w celu obsługi zgłoszenia",
                "fr": "J'accepte le traitement de mes données pour répondre à cette demande"},
    "position": {"en": "Position", "ru": "Вакансия", "pl": "Stanowisko", "fr": "Poste"},
    "city": {"en": "City", "ru": "Город", "pl": "Miasto", "fr": "Ville"},
    "cv": {"en": "CV", "ru": "Резюме", "pl": "CV", "fr": "CV"},
    "letter": {"en": "About you", "ru": "О себе", "pl": "Kilka słów o sobie", "fr": "Quelques mots sur vous"},
    "product": {"en": "Product", "ru": "Товар", "pl": "Produkt", "fr": "Article"},
    "purchase_date": {"en": "Purchase date", "ru": "Дата покупки", "pl": "Data zakupu", "fr": "Date d'achat"},
    "receipt_number": {"en": "Receipt number", "ru": "Номер чека", "pl": "Numer paragonu", "fr": "Numéro de ticket"},
    "description": {"en": "What happened?", "ru": "Что случилось?", "pl": "Opis problemu", "fr": "Que s'est-il passé ?"},
    "photo": {"en": "Photo (optional)", "ru": "Фото (необязательно)", "pl": "Zdjęcie (opcjonalnie)",
              "fr": "Photo (facultatif)"},
    "order_number": {"en": "Order number", "ru": "Номер заказа", "pl": "Numer zamówienia", "fr": "Numéro de commande"},
    "amount": {"en": "Amount", "ru": "Сумма", "pl": "Kwota", "fr": "Montant"},
    "reason": {"en": "Reason", "ru": "Причина", "pl": "Powód", "fr": "Motif"},
    "iban": {"en": "IBAN (optional)", "ru": "IBAN (необязательно)", "pl": "IBAN (opcjonalnie)",
             "fr": "IBAN (facultatif)"},
}
REASONS: dict[str, T] = {
    "defect": {"en": "Defective item", "ru": "Брак", "pl": "Wadliwy produkt", "fr": "Article défectueux"},
    "wrong": {"en": "Wrong item", "ru": "Не тот товар", "pl": "Niewłaściwy produkt", "fr": "Erreur d'article"},
    "late": {"en": "Late delivery", "ru": "Задержка доставки", "pl": "Opóźniona dostawa", "fr": "Retard de livraison"},
    "charge": {"en": "Wrong charge", "ru": "Ошибка списания", "pl": "Błędne obciążenie", "fr": "Erreur de débit"},
}
PIZZAS: dict[str, T] = {
    "Пицца Пепперони": {"en": "Pepperoni pizza", "pl": "Pizza pepperoni", "fr": "Pizza pepperoni"},
    "Пицца Маргарита": {"en": "Margherita pizza", "pl": "Pizza margherita", "fr": "Pizza margherita"},
    "Пицца Четыре сыра": {"en": "Four cheese pizza", "pl": "Pizza cztery sery", "fr": "Pizza quatre fromages"},
    "Пицца Гавайская": {"en": "Hawaiian pizza", "pl": "Pizza hawajska", "fr": "Pizza hawaïenne"},
    "Пицца с морепродуктами": {"en": "Seafood pizza", "pl": "Pizza z owocami morza", "fr": "Pizza aux fruits de mer"},
}
TITLES: dict[str, T] = {
    "preorder": {"en": "Pizza pre-order", "ru": "Предзаказ пиццы", "pl": "Zamówienie pizzy z odbiorem",
                 "fr": "Précommande de pizza"},
    "vacancy": {"en": "Apply for a job", "ru": "Отклик на вакансию", "pl": "Aplikuj o pracę", "fr": "Postuler"},
    "complaint": {"en": "Product complaint", "ru": "Жалоба на товар", "pl": "Reklamacja produktu",
                  "fr": "Réclamation produit"},
    "refund": {"en": "Refund request", "ru": "Запрос на возврат денег", "pl": "Wniosek o zwrot pieniędzy",
               "fr": "Demande de remboursement"},
}
INTROS: dict[str, T] = {
    "preorder": {"en": "Order a pizza and pick it up in the store at a time that suits you (store's local time).",
                 "ru": "Закажите пиццу и заберите её в магазине в удобное время (местное время магазина).",
                 "pl": "Zamów pizzę i odbierz ją w sklepie o wybranej godzinie (czas lokalny sklepu).",
                 "fr": "Commandez une pizza et retirez-la en magasin à l'heure qui vous convient (heure locale)."},
    "vacancy": {"en": "Choose a position and attach your CV (PDF, Word or ODT, up to 5 MB).",
                "ru": "Выберите вакансию и приложите резюме (PDF, Word или ODT, до 5 МБ).",
                "pl": "Wybierz stanowisko i dołącz CV (PDF, Word lub ODT, do 5 MB).",
                "fr": "Choisissez un poste et joignez votre CV (PDF, Word ou ODT, 5 Mo maximum)."},
    "complaint": {"en": "Tell us what was wrong with the product; we answer within two working days.",
                  "ru": "Расскажите, что не так с товаром; мы ответим в течение двух рабочих дней.",
                  "pl": "Opisz, co było nie tak z produktem; odpowiemy w ciągu dwóch dni roboczych.",
                  "fr": "Dites-nous ce qui n'allait pas ; nous répondons sous deux jours ouvrés."},
    "refund": {"en": "Ask for your money back for an order.", "ru": "Запросите возврат денег за заказ.",
               "pl": "Poproś o zwrot pieniędzy za zamówienie.",
               "fr": "Demandez le remboursement d'une commande."},
}
SUCCESS: T = {"en": "We will contact you soon.", "ru": "Мы скоро свяжемся с вами.",
              "pl": "Wkrótce się z Tobą skontaktujemy.", "fr": "Nous vous contacterons bientôt."}

_STR: dict[str, Any] = {"type": "string", "maxLength": 200}
_TEXT: dict[str, Any] = {"type": "string", "maxLength": 5000}
_CONSENT: dict[str, Any] = {"type": "boolean", "const": True}
_CONTACT = {"name": {"type": "string", "minLength": 2, "maxLength": 200}, "email": {"type": "string", "format": "email"},
            "phone": {"type": "string", "format": "phone"}}


def _ui(order: list[str], **extra: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, dict[str, Any]] = {n: {"label": L[n]} for n in order if n in L}
    for name, hints in extra.items():
        fields.setdefault(name, {}).update(hints)
    fields.setdefault("name", {})["autocomplete"] = "name"
    return {"order": order, "fields": fields}


def preorder() -> tuple[dict[str, Any], dict[str, Any]]:
    schema = {"type": "object", "properties": {
        **_CONTACT, "store_code": {"type": "string", "format": "store"},
        "pickup_date": {"type": "string", "format": "date"}, "pickup_time": {"type": "string", "format": "time"},
        "items": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
            "name": {"type": "string", "enum": list(PIZZAS)}, "qty": {"type": "integer", "minimum": 1, "maximum": 10}}}},
        "comment": _TEXT, "consent": _CONSENT},
        "required": ["name", "phone", "store_code", "pickup_date", "pickup_time", "items", "consent"]}
    ui = _ui(["name", "phone", "email", "store_code", "pickup_date", "pickup_time", "items", "comment", "consent"],
             store_code={"label": L["store"]}, comment={"widget": "textarea"},
             items={"choices": {k: {"ru": k, **v} for k, v in PIZZAS.items()}})
    ui["checks"] = [{"check": "store_hours", "store": "store_code", "date": "pickup_date", "time": "pickup_time"}]
    return schema, ui


def vacancy(positions: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = {"type": "object", "properties": {
        **_CONTACT, "position": {"type": "string", "enum": positions}, "city": {"type": "string", "minLength": 2,
                                                                               "maxLength": 120},
        "cv": {"type": "string", "format": "file"}, "letter": _TEXT, "consent": _CONSENT},
        "required": ["name", "phone", "email", "position", "city", "cv", "consent"]}
    ui = _ui(["position", "city", "name", "phone", "email", "cv", "letter", "consent"],
             position={"widget": "select"}, letter={"widget": "textarea"},
             cv={"accept": [".pdf", ".doc", ".docx", ".odt", ".rtf"], "max_mb": 5})
    return schema, ui


def complaint(receipt: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    props: dict[str, Any] = {
        **_CONTACT, "store": {"type": "string", "format": "store"}, "product": {"type": "string", "minLength": 2,
                                                                                "maxLength": 200},
        "purchase_date": {"type": "string", "format": "date"}, "description": _TEXT,
        "photo": {"type": "string", "format": "file"}, "consent": _CONSENT}
    order = ["name", "email", "phone", "store", "product", "purchase_date", "description", "photo", "consent"]
    if receipt:
        props["receipt_number"] = {"type": "string", "pattern": r"^\d{4,12}$"}
        order.insert(6, "receipt_number")
    schema = {"type": "object", "properties": props,
              "required": ["name", "email", "product", "purchase_date", "description", "consent"]}
    ui = _ui(order, description={"widget": "textarea"},
             photo={"accept": [".jpg", ".jpeg", ".png", ".heic", ".webp"], "max_mb": 10})
    if receipt:
        ui["fields"]["receipt_number"]["error"] = {
            "en": "4 to 12 digits, as printed on the receipt.", "ru": "От 4 до 12 цифр, как в чеке.",
            "pl": "Od 4 do 12 cyfr, jak na paragonie.", "fr": "De 4 à 12 chiffres, comme sur le ticket."}
    return schema, ui


def refund(order_pattern: str, example: str, with_iban: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    props: dict[str, Any] = {
        **_CONTACT, "order_number": {"type": "string", "pattern": order_pattern},
        "amount": {"type": "number", "exclusiveMinimum": 0, "maximum": 10000},
        "reason": {"type": "string", "enum": list(REASONS)}, "description": _TEXT, "consent": _CONSENT}
    order = ["name", "email", "order_number", "amount", "reason", "description", "consent"]
    if with_iban:
        props["iban"] = {"type": "string", "pattern": r"^FR\d{2}[0-9A-Z ]{11,30}$"}
        order.insert(5, "iban")
    schema = {"type": "object", "properties": props,
              "required": ["name", "email", "order_number", "amount", "reason", "consent"]}
    ui = _ui(order, reason={"widget": "radio", "choices": REASONS}, description={"widget": "textarea"},
             order_number={"placeholder": example, "error": {
                 "en": f"Like {example}.", "ru": f"Например, {example}.", "pl": f"Na przykład {example}.",
                 "fr": f"Par exemple {example}."}})
    return schema, ui


def _category(tenant: Tenant, code: str) -> Category | None:
    return Category.objects.filter(tenant=tenant, code=code).first() if code else None


def _department(tenant: Tenant, code: str) -> Department | None:
    return Department.objects.filter(tenant=tenant, code=code).first() if code else None


def _queue(tenant: Tenant) -> str:
    """The demo's queue for written requests when it takes web forms (seed_contact_center makes it), else ""."""
    queue = Queue.objects.filter(tenant=tenant, code=WRITTEN_QUEUE, is_active=True).first()
    return WRITTEN_QUEUE if queue is not None and ROUTING_CHANNEL in (queue.channels or []) else ""


def _positions(tenant: Tenant) -> list[str]:
    return sorted(set(Vacancy.objects.filter(tenant=tenant, is_open=True).values_list("position", flat=True)))


def _plan(tenant: Tenant) -> list[tuple[str, tuple[dict[str, Any], dict[str, Any]], str, str, str]]:
    """(form, (schema, ui), category code, department code, subject) per demo tenant."""
    slug = tenant.slug
    plans: dict[str, list[tuple[str, tuple[dict[str, Any], dict[str, Any]], str, str, str]]] = {
        "vostok-market": [
            ("preorder", preorder(), "pizza", "clients", "Предзаказ пиццы {pickup_date} {pickup_time}, {store_code}"),
            ("vacancy", vacancy(_positions(tenant)), "vacancies", "hr", "Отклик: {position}, {city}"),
            ("complaint", complaint(True), "complaints-quality", "clients", "Жалоба на товар: {product}"),
        ],
        "dyskont-pl": [
            ("complaint", complaint(True), "bok-reklamacja", "bok", "Reklamacja: {product}"),
            ("vacancy", vacancy(_positions(tenant)), "", "hr", "Aplikacja: {position}, {city}"),
        ],
        "maison-mode": [
            ("refund", refund(r"^MM\d{8}$", "MM12345678", True), "remboursement", "compta",
             "Demande de remboursement {order_number}"),
            ("complaint", complaint(False), "", "service-client", "Réclamation : {product}"),
        ],
        "quickdrop": [
            ("refund", refund(r"^QD-\d{7}$", "QD-1234567", False), "", "partners", "Refund request {order_number}"),
            ("vacancy", vacancy(_positions(tenant)), "", "recruitment", "Application: {position}, {city}"),
        ],
    }
    return [p for p in plans.get(slug, []) if p[0] != "vacancy" or p[1][0]["properties"]["position"]["enum"]]


def seed_webforms(tenants: list[Tenant]) -> list[WebForm]:
    """Create the demo tenants' forms (existing ones are kept as they are; one without a queue gets the demo's)."""
    made = []
    for tenant in tenants:
        queue = _queue(tenant)
        for kind, (schema, ui), category, department, subject in _plan(tenant):
            parse(schema, ui)  # a broken demo definition fails the seed, not the visitor
            form, _created = WebForm.objects.get_or_create(public_key=f"demo-{tenant.slug}-{kind}", defaults={
                "tenant": tenant, "name": TITLES[kind]["en"], "titles": TITLES[kind], "intros": INTROS[kind],
                "success_texts": SUCCESS, "schema": schema, "ui": ui, "subject": subject,
                "category": _category(tenant, category), "department": _department(tenant, department),
                "queue": queue})
            if not _created and queue and not form.queue:
                form.queue = queue
                form.save(update_fields=["queue", "updated_at"])
            made.append(form)
    return made
