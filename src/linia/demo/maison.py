"""Maison Mode: a French online fashion and home-decor shop with showrooms (refunds to accounting, B2B), fr."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random
from typing import Any

from linia.demo.common import (
    CategorySpec,
    DepartmentSpec,
    HolidaySpec,
    ProductSpec,
    PromotionSpec,
    Reporter,
    StoreSpec,
    TenantSpec,
    TicketContext,
    TicketTemplate,
    UserSpec,
    digits,
    slug_ascii,
    weekly,
)

DOMAIN = "maison-mode.example"
_SHOWROOM_HOURS = weekly(["10:00-19:00"], saturday=["10:00-20:00"], closed=("sun", "mon"))

STORES = [
    StoreSpec("MM-PAR", "Showroom Paris Saint-Germain", "24 rue de Sèvres, 75007 Paris", "Paris", "Île-de-France",
              48.8506, 2.3264, "+33 1 42 22 33 44", "Europe/Paris", _SHOWROOM_HOURS),
    StoreSpec("MM-LYS", "Showroom Lyon Presqu'île", "15 rue de la République, 69002 Lyon", "Lyon",
              "Auvergne-Rhône-Alpes", 45.7620, 4.8357, "+33 4 78 12 34 56", "Europe/Paris", _SHOWROOM_HOURS),
]

DEPARTMENTS = [
    DepartmentSpec("compta", "Comptabilité", "accounting", f"compta@{DOMAIN}"),
    DepartmentSpec("service-client", "Service client", "customer_relations", f"service-client@{DOMAIN}"),
    DepartmentSpec("logistique", "Logistique", "store_ops", f"logistique@{DOMAIN}"),
    DepartmentSpec("b2b", "Partenariats B2B et influenceurs", "other", f"b2b@{DOMAIN}"),
]

_ORDER = {"type": "string", "pattern": r"^MM\d{8}$", "title": "Numéro de commande"}
REFUND_SCHEMA = {
    "type": "object",
    "properties": {
        "order_number": _ORDER,
        "amount": {"type": "number", "exclusiveMinimum": 0, "maximum": 10000, "title": "Montant (EUR)"},
        "iban": {"type": "string", "pattern": r"^FR\d{2}[0-9A-Z ]{11,30}$", "title": "IBAN (facultatif)"},
    },
    "required": ["order_number", "amount"],
}
ORDER_SCHEMA = {"type": "object", "properties": {"order_number": _ORDER}, "required": ["order_number"]}
B2B_SCHEMA = {"type": "object", "properties": {
    "company": {"type": "string", "minLength": 2, "title": "Société"},
    "siret": {"type": "string", "pattern": r"^\d{14}$", "title": "SIRET"}}, "required": ["company"]}

CATEGORIES = [
    CategorySpec("confirmation", "Confirmation de commande", {"en": "Order confirmation"}, "", "service-client",
                 ORDER_SCHEMA),
    CategorySpec("remboursement", "Remboursement et compensation", {"en": "Refund / compensation"}, "", "compta",
                 REFUND_SCHEMA),
    CategorySpec("remb-defaut", "Article défectueux", {"en": "Defective item"}, "remboursement", "compta", REFUND_SCHEMA),
    CategorySpec("remb-erreur", "Erreur d'article", {"en": "Wrong item"}, "remboursement", "compta", REFUND_SCHEMA),
    CategorySpec("remb-retard", "Retard de livraison", {"en": "Late delivery"}, "remboursement", "compta", REFUND_SCHEMA),
    CategorySpec("remb-debit", "Erreur de débit", {"en": "Wrong charge"}, "remboursement", "compta", REFUND_SCHEMA),
    CategorySpec("retour-express", "Retour express", {"en": "Express return"}, "", "logistique", ORDER_SCHEMA),
    CategorySpec("b2b", "Professionnels et B2B", {"en": "B2B"}, "", "b2b", B2B_SCHEMA),
    # faults reported by the showrooms in the portal (linia.portal files them by these codes)
    CategorySpec("fault-equipment", "Panne d'équipement", {"en": "Equipment fault"}, "", "logistique"),
    CategorySpec("fault-fittings", "Mobilier et agencement", {"en": "Fittings"}, "", "logistique"),
    CategorySpec("fault-building", "Bâtiment et installations", {"en": "Building"}, "", "logistique"),
]
for _c in CATEGORIES:
    _c.names.setdefault("fr", _c.name)

_ITEMS = [("Robe midi en lin", "Vêtements"), ("Chemise en popeline", "Vêtements"), ("Trench classique", "Vêtements"),
          ("Pull col roulé en mérinos", "Vêtements"), ("Jean droit brut", "Vêtements"), ("Marinière", "Vêtements"),
          ("Ballerines en cuir", "Chaussures"), ("Mocassins", "Chaussures"), ("Sac cabas en toile", "Accessoires"),
          ("Foulard en soie", "Accessoires"), ("Coussin en lin lavé", "Maison"), ("Plaid en laine", "Maison"),
          ("Bougie parfumée figue", "Maison"), ("Vase en céramique", "Maison"), ("Nappe en lin", "Maison")]
_COLOURS = ["écru", "bleu marine", "noir", "terracotta"]


def _products() -> list[ProductSpec]:
    rng = Random("maison-products")
    out: list[ProductSpec] = []
    for name, family in _ITEMS:
        for colour in _COLOURS[: 2 + len(name) % 3]:
            attrs: dict[str, Any] = {"famille": family, "couleur": colour, "prix_eur": round(rng.uniform(19, 249), 2)}
            if family == "Vêtements":
                attrs["tailles"] = ["XS", "S", "M", "L", "XL"]
            out.append(ProductSpec(f"MM-{digits(rng, 6)}", f"{name} – {colour}", attrs))
    return out


FIRST_F = ["Camille", "Léa", "Manon", "Chloé", "Inès", "Julie", "Sarah", "Emma", "Louise", "Claire"]
FIRST_M = ["Lucas", "Hugo", "Thomas", "Nicolas", "Julien", "Antoine", "Maxime", "Louis"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
        "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Fontaine"]


def reporter(rng: Random) -> Reporter:
    first = rng.choice(FIRST_F if rng.random() < 0.75 else FIRST_M)
    last = rng.choice(LAST)
    prefix = rng.choice(["6 12", "6 23", "6 34", "6 45", "6 58", "6 71", "7 56", "7 81"])  # metropolitan mobiles
    phone = f"+33 {prefix} {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)}"
    email = f"{slug_ascii(first)}.{slug_ascii(last)}{rng.randrange(1, 99)}@courriel.example"
    return Reporter(f"{first} {last}", phone if rng.random() < 0.6 else "", email)


def staff_reporter(rng: Random, store: StoreSpec) -> Reporter:
    return Reporter(f"Équipe {store.name}", store.phone, f"{store.code.lower()}@{DOMAIN}")


def _order(ctx: TicketContext) -> str:
    return f"MM{digits(ctx.rng, 8)}"


def _refund(ctx: TicketContext) -> dict[str, Any]:
    fields: dict[str, Any] = {"order_number": _order(ctx), "amount": round(ctx.rng.uniform(19, 320), 2)}
    if ctx.rng.random() < 0.4:
        fields["iban"] = f"FR76 {digits(ctx.rng, 4)} {digits(ctx.rng, 4)} {digits(ctx.rng, 4)} {digits(ctx.rng, 4)} {digits(ctx.rng, 4)} {digits(ctx.rng, 3)}"
    return fields


def _b2b(ctx: TicketContext) -> dict[str, Any]:
    return {"company": ctx.rng.choice(["Atelier Lumière SARL", "Concept Store Nantes", "Hôtel Belle Rive"]),
            "siret": digits(ctx.rng, 14)}


TEMPLATES = [
    TicketTemplate("confirmation", "Confirmation de la commande {f_order_number}",
                   "Bonjour, j'ai passé la commande {f_order_number} hier mais je n'ai reçu aucun e-mail de "
                   "confirmation. Pouvez-vous vérifier ?", ("email", "chat", "call"),
                   reply="Bonjour {name}, votre commande est bien confirmée, l'expédition est prévue sous 48 h.",
                   fields=lambda ctx: {"order_number": _order(ctx)}, needs_store=False, weight=3),
    TicketTemplate("remb-defaut", "Article défectueux : {product}",
                   "J'ai reçu « {product} » avec une couture décousue. Je souhaite un remboursement.",
                   ("email", "chat", "webform", "messenger"),
                   reply="Nous sommes désolés. Une demande de remboursement a été transmise à la comptabilité, "
                         "le virement sera effectué sous 5 jours ouvrés.",
                   note="Demande de compensation envoyée à la comptabilité (photos reçues).",
                   follow_up="Voici mon IBAN pour le virement, merci de confirmer la réception.",
                   fields=_refund, needs_store=False, weight=3, tags=("remboursement",)),
    TicketTemplate("remb-erreur", "Mauvais article reçu",
                   "J'ai commandé « {product} » et j'ai reçu un autre modèle, dans une autre taille.",
                   ("email", "call", "chat"),
                   reply="Toutes nos excuses : un bon de retour gratuit vous a été envoyé et le bon article part "
                         "aujourd'hui.", fields=_refund, needs_store=False, weight=2),
    TicketTemplate("remb-retard", "Commande en retard – demande de compensation",
                   "Ma commande devait arriver il y a une semaine, toujours rien. Je demande une compensation.",
                   ("email", "call", "messenger"),
                   reply="Le transporteur a perdu le colis ; nous renvoyons la commande et remboursons les frais de "
                         "port.", note="Vérifier auprès de la logistique le suivi Colissimo.", fields=_refund,
                   needs_store=False, weight=2),
    TicketTemplate("remb-debit", "Débit en double sur ma carte",
                   "Ma carte a été débitée deux fois pour la même commande. Merci de rembourser le doublon.",
                   ("email", "call"),
                   reply="La comptabilité confirme le double débit ; le remboursement est en cours.",
                   note="Registre des remboursements non envoyés : vérifier le virement précédent.",
                   fields=_refund, priority="high", needs_store=False, weight=2),
    TicketTemplate("retour-express", "Retour express au showroom de {city}",
                   "Puis-je rapporter ma commande au showroom de {city} au lieu de l'envoyer par la poste ?",
                   ("chat", "call", "walk_in"),
                   reply="Oui, notre {store} ({address}) accepte les retours. Horaires : {hours}.",
                   fields=lambda ctx: {"order_number": _order(ctx)}, weight=2),
    TicketTemplate("b2b", "Demande de partenariat professionnel",
                   "Nous sommes une boutique et souhaitons commander en gros pour notre concept store.",
                   ("email", "call", "portal"),
                   reply="Merci ! Votre gestionnaire de compte B2B vous contactera sous 24 h avec nos conditions.",
                   fields=_b2b, needs_store=False),
]

USERS = [
    UserSpec("mm-supervisor", "Claire", "Martin", "supervisor", "fr", "Europe/Paris"),
    UserSpec("mm-agent1", "Sophie", "Bernard", "agent", "fr", "Europe/Paris"),
    UserSpec("mm-agent2", "Marina", "Lefèvre", "agent", "fr", "Europe/Moscow", note="opératrice francophone, Moscou"),
    UserSpec("mm-hq", "Julien", "Moreau", "client_staff", "fr", "Europe/Paris", department="compta", is_staff=True,
             note="comptabilité, accès à l'admin"),
    UserSpec("mm-logistique", "Nadia", "Benali", "client_staff", "fr", "Europe/Paris", department="logistique"),
    UserSpec("mm-store", "Chloé", "Petit", "store_staff", "fr", "Europe/Paris", store="MM-PAR",
             note="showroom de Paris"),
]


def spec(today: date) -> TenantSpec:
    year = today.year + (1 if today.month == 12 and today.day > 25 else 0)
    return TenantSpec(
        slug="maison-mode", name="Maison Mode", language="fr", time_zone="Europe/Paris", prefix="MM",
        stores=list(STORES), departments=DEPARTMENTS, categories=CATEGORIES, templates=TEMPLATES, users=USERS,
        reporter=reporter, staff_reporter=staff_reporter, products=_products(), stock_for_all_stores=True,
        promotions=[PromotionSpec("Soldes d'hiver", date(year + 1, 1, 7), date(year + 1, 2, 3),
                                  {"fr": "Jusqu'à −50 % sur la collection automne-hiver.",
                                   "en": "Up to 50% off the autumn-winter collection."}),
                    PromotionSpec("Livraison offerte", today - timedelta(days=1), today + timedelta(days=6),
                                  {"fr": "Livraison gratuite dès 60 € d'achat.", "en": "Free delivery over 60 EUR."})],
        holidays=[HolidaySpec(date(year, 12, 24), "Veille de Noël", ("10:00-17:00",)),
                  HolidaySpec(date(year, 12, 25), "Noël"), HolidaySpec(date(year + 1, 1, 1), "Jour de l'an")],
        ticket_share=18,
    )
