"""Dyskont PL: a Polish discount chain with 2,600 stores reporting technical faults (the BOK/BOT case), pl."""

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
    VacancySpec,
    digits,
    jitter,
    slug_ascii,
    weekly,
)

DOMAIN = "dyskont-pl.example"
STORE_COUNT = 2600

# city, voivodeship, lat, lon, population (thousands), first two digits of postal codes
CITIES: list[tuple[str, str, float, float, int, str]] = [
    ("Warszawa", "mazowieckie", 52.2297, 21.0122, 1860, "02"), ("Kraków", "małopolskie", 50.0647, 19.9450, 800, "31"),
    ("Łódź", "łódzkie", 51.7592, 19.4560, 660, "90"), ("Wrocław", "dolnośląskie", 51.1079, 17.0385, 670, "50"),
    ("Poznań", "wielkopolskie", 52.4064, 16.9252, 540, "60"), ("Gdańsk", "pomorskie", 54.3520, 18.6466, 486, "80"),
    ("Szczecin", "zachodniopomorskie", 53.4285, 14.5528, 395, "70"),
    ("Bydgoszcz", "kujawsko-pomorskie", 53.1235, 18.0084, 330, "85"), ("Lublin", "lubelskie", 51.2465, 22.5684, 334, "20"),
    ("Białystok", "podlaskie", 53.1325, 23.1688, 294, "15"), ("Katowice", "śląskie", 50.2649, 19.0238, 285, "40"),
    ("Gdynia", "pomorskie", 54.5189, 18.5305, 243, "81"), ("Częstochowa", "śląskie", 50.8118, 19.1203, 210, "42"),
    ("Radom", "mazowieckie", 51.4027, 21.1471, 200, "26"), ("Rzeszów", "podkarpackie", 50.0412, 21.9991, 198, "35"),
    ("Toruń", "kujawsko-pomorskie", 53.0138, 18.5984, 196, "87"), ("Sosnowiec", "śląskie", 50.2863, 19.1041, 193, "41"),
    ("Kielce", "świętokrzyskie", 50.8661, 20.6286, 186, "25"), ("Gliwice", "śląskie", 50.2945, 18.6714, 175, "44"),
    ("Olsztyn", "warmińsko-mazurskie", 53.7784, 20.4801, 171, "10"), ("Zabrze", "śląskie", 50.3249, 18.7857, 170, "41"),
    ("Bielsko-Biała", "śląskie", 49.8224, 19.0584, 168, "43"), ("Bytom", "śląskie", 50.3480, 18.9157, 160, "41"),
    ("Zielona Góra", "lubuskie", 51.9356, 15.5062, 140, "65"), ("Rybnik", "śląskie", 50.1022, 18.5463, 136, "44"),
    ("Ruda Śląska", "śląskie", 50.2558, 18.8556, 135, "41"), ("Opole", "opolskie", 50.6751, 17.9213, 127, "45"),
    ("Tychy", "śląskie", 50.1372, 18.9664, 127, "43"), ("Gorzów Wielkopolski", "lubuskie", 52.7368, 15.2288, 121, "66"),
    ("Elbląg", "warmińsko-mazurskie", 54.1561, 19.4045, 117, "82"), ("Płock", "mazowieckie", 52.5468, 19.7064, 116, "09"),
    ("Dąbrowa Górnicza", "śląskie", 50.3217, 19.1949, 118, "41"), ("Wałbrzych", "dolnośląskie", 50.7714, 16.2843, 110, "58"),
    ("Włocławek", "kujawsko-pomorskie", 52.6482, 19.0678, 107, "87"), ("Tarnów", "małopolskie", 50.0121, 20.9858, 107, "33"),
    ("Chorzów", "śląskie", 50.2975, 18.9546, 106, "41"), ("Koszalin", "zachodniopomorskie", 54.1944, 16.1722, 106, "75"),
    ("Kalisz", "wielkopolskie", 51.7611, 18.0910, 98, "62"), ("Legnica", "dolnośląskie", 51.2070, 16.1619, 99, "59"),
    ("Grudziądz", "kujawsko-pomorskie", 53.4837, 18.7536, 94, "86"), ("Jaworzno", "śląskie", 50.2050, 19.2740, 90, "43"),
    ("Słupsk", "pomorskie", 54.4641, 17.0285, 90, "76"), ("Jastrzębie-Zdrój", "śląskie", 49.9553, 18.5740, 88, "44"),
    ("Nowy Sącz", "małopolskie", 49.6218, 20.6972, 83, "33"), ("Jelenia Góra", "dolnośląskie", 50.9044, 15.7194, 79, "58"),
    ("Siedlce", "mazowieckie", 52.1676, 22.2902, 77, "08"), ("Mysłowice", "śląskie", 50.2081, 19.1666, 75, "41"),
    ("Konin", "wielkopolskie", 52.2230, 18.2511, 73, "62"), ("Piła", "wielkopolskie", 53.1514, 16.7378, 73, "64"),
    ("Piotrków Trybunalski", "łódzkie", 51.4055, 19.7031, 73, "97"),
    ("Inowrocław", "kujawsko-pomorskie", 52.7981, 18.2610, 72, "88"), ("Lubin", "dolnośląskie", 51.4000, 16.2015, 72, "59"),
    ("Ostrów Wielkopolski", "wielkopolskie", 51.6552, 17.8067, 71, "63"), ("Suwałki", "podlaskie", 54.1118, 22.9309, 69, "16"),
    ("Stargard", "zachodniopomorskie", 53.3366, 15.0497, 67, "73"), ("Gniezno", "wielkopolskie", 52.5348, 17.5826, 67, "62"),
    ("Ostrowiec Świętokrzyski", "świętokrzyskie", 50.9294, 21.3853, 68, "27"),
    ("Siemianowice Śląskie", "śląskie", 50.3266, 19.0296, 67, "41"), ("Głogów", "dolnośląskie", 51.6636, 16.0845, 66, "67"),
    ("Pabianice", "łódzkie", 51.6645, 19.3547, 64, "95"), ("Leszno", "wielkopolskie", 51.8406, 16.5749, 63, "64"),
    ("Zamość", "lubelskie", 50.7231, 23.2519, 62, "22"), ("Łomża", "podlaskie", 53.1781, 22.0590, 62, "18"),
    ("Żory", "śląskie", 50.0449, 18.6983, 62, "44"), ("Pruszków", "mazowieckie", 52.1709, 20.8120, 62, "05"),
    ("Ełk", "warmińsko-mazurskie", 53.8282, 22.3647, 61, "19"),
    ("Tomaszów Mazowiecki", "łódzkie", 51.5311, 20.0086, 61, "97"), ("Chełm", "lubelskie", 51.1431, 23.4716, 60, "22"),
    ("Mielec", "podkarpackie", 50.2873, 21.4239, 60, "39"), ("Przemyśl", "podkarpackie", 49.7838, 22.7678, 58, "37"),
    ("Stalowa Wola", "podkarpackie", 50.5828, 22.0534, 58, "37"), ("Kędzierzyn-Koźle", "opolskie", 50.3495, 18.2260, 58, "47"),
    ("Tczew", "pomorskie", 54.0924, 18.7779, 60, "83"), ("Biała Podlaska", "lubelskie", 52.0324, 23.1165, 57, "21"),
    ("Ostrołęka", "mazowieckie", 53.0852, 21.5661, 52, "07"), ("Świdnica", "dolnośląskie", 50.8429, 16.4888, 56, "58"),
    ("Krosno", "podkarpackie", 49.6885, 21.7700, 46, "38"), ("Nysa", "opolskie", 50.4741, 17.3344, 43, "48"),
    ("Zakopane", "małopolskie", 49.2992, 19.9496, 27, "34"), ("Sandomierz", "świętokrzyskie", 50.6826, 21.7488, 23, "27"),
    ("Augustów", "podlaskie", 53.8430, 22.9799, 30, "16"), ("Giżycko", "warmińsko-mazurskie", 54.0380, 21.7646, 29, "11"),
    ("Kołobrzeg", "zachodniopomorskie", 54.1757, 15.5833, 46, "78"), ("Mińsk Mazowiecki", "mazowieckie", 52.1794, 21.5716, 40, "05"),
    ("Skierniewice", "łódzkie", 51.9547, 20.1583, 47, "96"), ("Sieradz", "łódzkie", 51.5957, 18.7302, 41, "98"),
    ("Kutno", "łódzkie", 52.2308, 19.3642, 43, "99"), ("Oświęcim", "małopolskie", 50.0344, 19.2098, 36, "32"),
    ("Wadowice", "małopolskie", 49.8834, 19.4931, 19, "34"), ("Chojnice", "pomorskie", 53.6966, 17.5570, 40, "89"),
    ("Malbork", "pomorskie", 54.0359, 19.0275, 38, "82"), ("Świnoujście", "zachodniopomorskie", 53.9100, 14.2475, 40, "72"),
    ("Zgorzelec", "dolnośląskie", 51.1499, 15.0083, 30, "59"), ("Żary", "lubuskie", 51.6420, 15.1378, 37, "68"),
    ("Kwidzyn", "pomorskie", 53.7297, 18.9239, 38, "82"), ("Brodnica", "kujawsko-pomorskie", 53.2597, 19.3996, 28, "87"),
    ("Jarosław", "podkarpackie", 50.0162, 22.6778, 37, "37"), ("Puławy", "lubelskie", 51.4165, 21.9690, 47, "24"),
    ("Starachowice", "świętokrzyskie", 51.0374, 21.0711, 48, "27"), ("Września", "wielkopolskie", 52.3251, 17.5655, 30, "62"),
    ("Bolesławiec", "dolnośląskie", 51.2649, 15.5697, 38, "59"), ("Oleśnica", "dolnośląskie", 51.2094, 17.3839, 37, "56"),
    ("Brzeg", "opolskie", 50.8607, 17.4674, 35, "49"), ("Nowy Targ", "małopolskie", 49.4774, 20.0326, 33, "34"),
    ("Ciechanów", "mazowieckie", 52.8813, 20.6206, 43, "06"), ("Bełchatów", "łódzkie", 51.3688, 19.3567, 56, "97"),
    ("Racibórz", "śląskie", 50.0919, 18.2192, 54, "47"), ("Wodzisław Śląski", "śląskie", 50.0035, 18.4614, 47, "44"),
    ("Cieszyn", "śląskie", 49.7496, 18.6322, 35, "43"),
]
TOURIST = {"Zakopane", "Kołobrzeg", "Świnoujście", "Giżycko", "Augustów"}  # open on Sundays too
STREETS = [
    "ul. Mickiewicza", "ul. Słowackiego", "ul. Kościuszki", "ul. Sienkiewicza", "ul. Piłsudskiego", "ul. Długa",
    "ul. Polna", "ul. Lipowa", "ul. Kwiatowa", "ul. Ogrodowa", "ul. Szkolna", "ul. Leśna", "ul. Słoneczna",
    "ul. Krótka", "ul. Jana Pawła II", "ul. Wojska Polskiego", "ul. 3 Maja", "ul. Kolejowa", "ul. Kopernika",
    "ul. Reymonta", "ul. Żeromskiego", "ul. Konopnickiej", "ul. Dworcowa", "ul. Batorego", "ul. Armii Krajowej",
    "ul. Grunwaldzka", "ul. Łąkowa", "ul. Wiejska", "al. Niepodległości", "ul. Chopina", "ul. Prusa", "ul. Zielona",
    "ul. Brzozowa", "ul. Akacjowa", "ul. Parkowa", "ul. Mazowiecka", "ul. Warszawska", "ul. Krakowska",
    "ul. Poznańska", "ul. Toruńska", "ul. Hallera", "ul. Traugutta", "ul. Moniuszki", "ul. Okrzei", "os. Słoneczne",
]
VOIVODESHIPS = sorted({c[1] for c in CITIES})


def _allocation() -> list[int]:
    """Stores per city, weighted by population**0.8, summing to STORE_COUNT (largest remainder)."""
    weights = [c[4] ** 0.8 for c in CITIES]
    total = sum(weights)
    raw = [STORE_COUNT * w / total for w in weights]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)[:STORE_COUNT - sum(counts)]:
        counts[i] += 1
    return counts


def _hours(rng: Random, city: str) -> dict[str, Any]:
    if city in TOURIST:
        return weekly(["06:00-22:00"], sunday=["09:00-20:00"])
    roll = rng.random()
    if roll < 0.1:
        return weekly(["06:00-23:00"], closed=("sun",))
    if roll < 0.14:
        return weekly(["07:00-22:00"], sunday=["09:00-20:00"])  # franchise store with Sunday trading
    return weekly(["06:00-22:00"], closed=("sun",))


def _stores() -> list[StoreSpec]:
    rng = Random("dyskont-stores")
    stores: list[StoreSpec] = []
    for (city, voiv, lat, lon, pop, post), count in zip(CITIES, _allocation(), strict=True):
        spread = 0.02 + min(pop, 1000) / 10000
        for i in range(count):
            street = STREETS[(i * 7 + len(city)) % len(STREETS)]
            house = rng.randrange(1, 180)
            la, lo = jitter(rng, lat, lon, spread)
            stores.append(StoreSpec(
                code=f"DP{len(stores) + 1:04d}", name=f"Dyskont {city}, {street} {house}",
                address=f"{street} {house}, {post}-{rng.randrange(1, 999):03d} {city}", city=city, region=voiv,
                latitude=la, longitude=lo,
                phone=f"+48 {rng.choice(['512', '601', '694', '784', '881'])} {digits(rng, 3)} {digits(rng, 3)}",
                time_zone="Europe/Warsaw", opening_hours=_hours(rng, city),
            ))
    return stores


def _region_name(voiv: str) -> str:
    return voiv[:-1]  # "mazowieckie" -> "mazowiecki"


DEPARTMENTS = [
    DepartmentSpec("bok", "Biuro Obsługi Klienta", "customer_relations", f"bok@{DOMAIN}"),
    DepartmentSpec("bot", "Biuro Obsługi Technicznej (centrala)", "technical", f"bot@{DOMAIN}"),
    DepartmentSpec("ops", "Dział operacji sklepowych", "store_ops", f"operacje@{DOMAIN}"),
    DepartmentSpec("hr", "Dział kadr i rekrutacji", "hr", f"rekrutacja@{DOMAIN}"),
    DepartmentSpec("accounting", "Księgowość", "accounting", f"ksiegowosc@{DOMAIN}"),
    *[DepartmentSpec(f"tech-{slug_ascii(v)}", f"Serwis techniczny – region {_region_name(v)}", "technical",
                     f"serwis.{slug_ascii(v)}@{DOMAIN}", v) for v in VOIVODESHIPS],
]

TECH_SCHEMA = {
    "type": "object",
    "properties": {
        "asset_number": {"type": "string", "pattern": r"^[A-Z]{2}-\d{6}$", "title": "Numer inwentarzowy",
                         "examples": ["CH-000101"]},
        "urgency": {"type": "string", "enum": ["krytyczna", "wysoka", "normalna", "niska"], "title": "Pilność"},
    },
    "required": ["asset_number", "urgency"],
}
COMPLAINT_SCHEMA = {
    "type": "object",
    "properties": {
        "receipt_number": {"type": "string", "pattern": r"^\d{4,12}$", "title": "Numer paragonu"},
        "purchase_date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$", "title": "Data zakupu"},
        "product": {"type": "string", "minLength": 2, "title": "Produkt"},
    },
    "required": ["purchase_date", "product"],
}

CATEGORIES = [
    CategorySpec("awarie", "Awarie sprzętu", {"en": "Equipment faults"}, "", "bot", TECH_SCHEMA),
    CategorySpec("awarie-chlodnicze", "Urządzenia chłodnicze", {"en": "Refrigeration"}, "awarie", "bot", TECH_SCHEMA),
    CategorySpec("awarie-kasy", "Kasy i terminale płatnicze", {"en": "POS / cash registers"}, "awarie", "bot",
                 TECH_SCHEMA),
    CategorySpec("awarie-wagi", "Wagi", {"en": "Scales"}, "awarie", "bot", TECH_SCHEMA),
    CategorySpec("wyposazenie", "Wyposażenie sklepu", {"en": "Store fittings"}, "", "bot", TECH_SCHEMA),
    CategorySpec("budynek", "Budynek i instalacje", {"en": "Building"}, "", "bot", TECH_SCHEMA),
    CategorySpec("bok", "Zgłoszenia klientów", {"en": "Customer requests"}, "", "bok"),
    CategorySpec("bok-reklamacja", "Reklamacja produktu", {"en": "Product complaint"}, "bok", "bok", COMPLAINT_SCHEMA),
    CategorySpec("bok-obsluga", "Obsługa w sklepie", {"en": "Service in store"}, "bok", "ops"),
    CategorySpec("bok-pytania", "Pytania ogólne", {"en": "General questions"}, "bok", "bok"),
]
for _c in CATEGORIES:
    _c.names.setdefault("pl", _c.name)

_PRODUCTS = [
    ("Mleko 3,2% 1 l", "Łaciate"), ("Masło ekstra 200 g", "Mlekovita"), ("Jogurt naturalny 400 g", "Bakoma"),
    ("Ser żółty Gouda 150 g", "Światowid"), ("Chleb żytni 500 g", "Piekarnia Dyskont"), ("Bułka kajzerka", "Piekarnia Dyskont"),
    ("Jaja z wolnego wybiegu 10 szt.", "Ferma Polska"), ("Kiełbasa śląska 1 kg", "Sokołów"),
    ("Filet z piersi kurczaka 1 kg", "Drosed"), ("Szynka konserwowa 100 g", "Krakus"),
    ("Pierogi ruskie 450 g", "Pierogarnia"), ("Ziemniaki 2 kg", "Polskie pola"), ("Jabłka Ligol 1 kg", "Sady Grójeckie"),
    ("Pomidory malinowe 500 g", "Polskie pola"), ("Woda mineralna 1,5 l", "Żywiec Zdrój"),
    ("Sok jabłkowy 1 l", "Tymbark"), ("Kawa mielona 500 g", "Tchibo"), ("Herbata czarna 100 szt.", "Saga"),
    ("Czekolada mleczna 100 g", "Wedel"), ("Ptasie mleczko 340 g", "Wedel"), ("Makaron świderki 500 g", "Lubella"),
    ("Mąka pszenna 1 kg", "Basia"), ("Olej rzepakowy 1 l", "Kujawski"), ("Płyn do naczyń 1 l", "Ludwik"),
    ("Papier toaletowy 8 rolek", "Velvet"),
]


def _products() -> list[ProductSpec]:
    rng = Random("dyskont-products")
    return [ProductSpec(sku=f"590{digits(rng, 10)}", name=f"{name} {brand}",
                        attributes={"brand": brand, "price_pln": round(rng.uniform(2.49, 39.99), 2)})
            for name, brand in _PRODUCTS]


def _sundays_before(day: date, count: int) -> list[date]:
    sundays: list[date] = []
    d = day - timedelta(days=1)
    while len(sundays) < count:
        if d.weekday() == 6:
            sundays.append(d)
        d -= timedelta(days=1)
    return sorted(sundays)


def _last_sunday(year: int, month: int) -> date:
    d = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def _calendar(today: date) -> list[HolidaySpec]:
    year = today.year if today.month < 12 or today.day < 24 else today.year + 1
    days = [
        HolidaySpec(date(year, 12, 24), "Wigilia Bożego Narodzenia", ("06:00-14:00",)),
        HolidaySpec(date(year, 12, 25), "Boże Narodzenie"), HolidaySpec(date(year, 12, 26), "Drugi dzień świąt"),
        HolidaySpec(date(year, 12, 31), "Sylwester", ("06:00-16:00",)),
        HolidaySpec(date(year + 1, 1, 1), "Nowy Rok"), HolidaySpec(date(year + 1, 1, 6), "Trzech Króli"),
    ]
    trading = [*_sundays_before(date(year, 12, 24), 3), _last_sunday(year + 1, 1)]
    days += [HolidaySpec(d, "Niedziela handlowa", ("08:00-20:00",)) for d in trading]
    return days


FIRST_F = ["Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa", "Magdalena", "Joanna", "Monika", "Zofia"]
FIRST_M = ["Piotr", "Krzysztof", "Tomasz", "Paweł", "Marcin", "Michał", "Jakub", "Grzegorz", "Łukasz", "Adam"]
LAST = ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
        "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Krawczyk", "Piotrowski"]


def _person(rng: Random) -> tuple[str, str]:
    female = rng.random() < 0.5
    last = rng.choice(LAST)
    if female and last.endswith("ki"):
        last = last[:-1] + "a"
    return rng.choice(FIRST_F if female else FIRST_M), last


def reporter(rng: Random) -> Reporter:
    first, last = _person(rng)
    phone = f"+48 {rng.choice(['501', '512', '601', '694', '784', '881'])} {digits(rng, 3)} {digits(rng, 3)}"
    email = f"{slug_ascii(first)}.{slug_ascii(last)}@poczta.example" if rng.random() < 0.4 else ""
    return Reporter(f"{first} {last}", phone, email)


def staff_reporter(rng: Random, store: StoreSpec) -> Reporter:
    first, last = _person(rng)
    return Reporter(f"{first} {last} (kierownik sklepu {store.code})", store.phone,
                    f"sklep.{store.code.lower()}@{DOMAIN}")


def _tech(urgency: tuple[str, ...], prefix: str) -> Any:
    def fields(ctx: TicketContext) -> dict[str, Any]:
        return {"asset_number": f"{prefix}-{digits(ctx.rng, 6)}", "urgency": ctx.rng.choice(urgency)}
    return fields


def _complaint(ctx: TicketContext) -> dict[str, Any]:
    day = date.today() - timedelta(days=ctx.rng.randrange(1, 8))  # noqa: DTZ011 (a demo purchase date)
    return {"purchase_date": day.isoformat(), "product": ctx.product, "receipt_number": digits(ctx.rng, 8)}


_TECH_CHANNELS = ("portal", "call", "email", "fax", "sms")
TEMPLATES = [
    TicketTemplate("awarie-chlodnicze", "Awaria lady chłodniczej – {store}",
                   "Lada chłodnicza z nabiałem nie trzyma temperatury, termometr pokazuje +11°C. Towar przenosimy do "
                   "chłodni zaplecza.", _TECH_CHANNELS,
                   reply="Zgłoszenie przyjęte. Technik serwisu chłodniczego przyjedzie dziś do godziny 18:00.",
                   note="Zlecenie przekazane do serwisu regionalnego, czas reakcji 4 h (SLA krytyczne).",
                   fields=_tech(("krytyczna", "wysoka"), "CH"), priority="urgent", from_store_staff=True,
                   department="@region", weight=4, tags=("chłodnictwo",)),
    TicketTemplate("awarie-chlodnicze", "Zamrażarka wyspowa – alarm temperatury",
                   "Zamrażarka z lodami sygnalizuje alarm, temperatura −9°C zamiast −18°C.", _TECH_CHANNELS,
                   reply="Serwis potwierdził wizytę jutro do 10:00. Prosimy o przeniesienie towaru.",
                   fields=_tech(("wysoka", "krytyczna"), "CH"), priority="high", from_store_staff=True,
                   department="@region", weight=2, tags=("chłodnictwo",)),
    TicketTemplate("awarie-kasy", "Kasa nr {n} nie drukuje paragonów",
                   "Drukarka fiskalna w kasie nr {n} zgłasza błąd papieru mimo założenia nowej rolki.", _TECH_CHANNELS,
                   reply="Prosimy o restart kasy. Jeśli błąd wróci, serwis POS przyjedzie jutro rano.",
                   follow_up="Po restarcie błąd wrócił, kasa nadal nieczynna.",
                   fields=_tech(("wysoka", "normalna"), "KS"), priority="high", from_store_staff=True,
                   department="@region", weight=4, tags=("kasy",)),
    TicketTemplate("awarie-kasy", "Terminal płatniczy nie łączy się z siecią",
                   "Terminal przy kasie nr {n} pokazuje „Brak połączenia”, klienci mogą płacić tylko gotówką.",
                   _TECH_CHANNELS, reply="Operator terminali zdalnie zrestartował urządzenie, proszę sprawdzić.",
                   fields=_tech(("krytyczna", "wysoka"), "TP"), priority="urgent", from_store_staff=True,
                   department="@region", weight=2),
    TicketTemplate("awarie-wagi", "Waga na dziale warzyw pokazuje błędną masę",
                   "Waga samoobsługowa przy warzywach waży o ok. 50 g za dużo, klienci zgłaszają reklamacje.",
                   _TECH_CHANNELS, reply="Waga zostanie wyłączona z użytku do czasu legalizacji, serwis w ciągu 48 h.",
                   fields=_tech(("wysoka", "normalna"), "WG"), priority="high", from_store_staff=True,
                   department="@region", weight=2),
    TicketTemplate("wyposazenie", "Uszkodzone drzwi automatyczne",
                   "Drzwi wejściowe nie zamykają się do końca, czujnik nie reaguje. Sklep nie może być zamknięty na noc.",
                   _TECH_CHANNELS, reply="Ekipa serwisowa będzie dziś przed zamknięciem sklepu.",
                   fields=_tech(("krytyczna",), "DR"), priority="urgent", from_store_staff=True,
                   department="@region", weight=2),
    TicketTemplate("wyposazenie", "Uszkodzony regał w alejce z napojami",
                   "Półka regału pękła pod zgrzewkami wody, regał zabezpieczony taśmą.", _TECH_CHANNELS,
                   reply="Zamówiono nową półkę, montaż w tym tygodniu.",
                   fields=_tech(("normalna", "niska"), "RG"), from_store_staff=True, department="@region", weight=2),
    TicketTemplate("budynek", "Przeciek dachu nad magazynem",
                   "Po nocnych opadach woda kapie z sufitu w magazynie, podstawiliśmy pojemniki.", _TECH_CHANNELS,
                   reply="Dekarz przyjedzie jutro; prosimy o zdjęcia miejsca przecieku.",
                   note="Zgłoszone do zarządcy budynku (najem).",
                   fields=_tech(("wysoka",), "BD"), priority="high", from_store_staff=True, department="@region",
                   weight=2),
    TicketTemplate("budynek", "Nie działa oświetlenie na sali sprzedaży",
                   "Połowa lamp na sali sprzedaży nie świeci od rana, bezpiecznik nie wybija.", _TECH_CHANNELS,
                   reply="Elektryk przyjedzie w ciągu 24 h.", fields=_tech(("normalna", "wysoka"), "BD"),
                   from_store_staff=True, department="@region", weight=2),
    TicketTemplate("bok-reklamacja", "Reklamacja: {product}",
                   "Dzień dobry, produkt „{product}” kupiony w sklepie przy {address} był nieświeży. "
                   "Proszę o zwrot pieniędzy.", ("call", "email", "post", "webform"),
                   reply="Przepraszamy. Zwrot pieniędzy jest możliwy w każdym sklepie sieci po okazaniu paragonu.",
                   follow_up="Dziękuję, w sklepie nie chcieli przyjąć zwrotu bez opakowania.",
                   fields=_complaint, weight=3),
    TicketTemplate("bok-obsluga", "Nieuprzejma obsługa przy kasie",
                   "W sklepie przy {address} kasjerka była bardzo nieuprzejma, a kolejka miała 15 osób.",
                   ("call", "email", "fax", "webform"),
                   reply="Dziękujemy za zgłoszenie, przekazaliśmy je kierownikowi regionu.",
                   note="Przekazano do działu operacji sklepowych.", weight=2),
    TicketTemplate("bok-pytania", "Godziny otwarcia w niedzielę handlową",
                   "Czy sklep przy {address} jest otwarty w niedzielę handlową i w jakich godzinach?",
                   ("call", "email", "sms"),
                   reply="Tak, w niedziele handlowe sklep jest czynny w godz. 08:00–20:00. Standardowe godziny: {hours}.",
                   weight=3),
]


def region_department(store: StoreSpec) -> str:
    return f"tech-{slug_ascii(store.region)}"


# The store portal (linia.portal): its fault kinds file into the technical categories, the asset goes to the
# category's inventory number and the urgency to its Polish values; due times per priority in hours.
SETTINGS: dict[str, Any] = {"portal": {
    "fault_categories": {"equipment": "awarie", "fittings": "wyposazenie", "building": "budynek"},
    "field_map": {"asset": "asset_number", "urgency": "urgency"},
    "urgency_values": {"urgent": "krytyczna", "high": "wysoka", "normal": "normalna", "low": "niska"},
    "due_hours": {"urgent": 4, "high": 24, "normal": 72, "low": 168},
    "asset_hint": {"pl": "Numer inwentarzowy z naklejki na urządzeniu, np. CH-000101.",
                   "en": "The inventory number on the device's sticker, e.g. CH-000101."},
    "assets": ["CH-000101", "KS-000201", "WG-000301", "DR-000401", "BD-000501"],
}}


def _promotions(today: date) -> list[PromotionSpec]:
    return [
        PromotionSpec("Tydzień włoski", today - timedelta(days=2), today + timedelta(days=5),
                      {"pl": "Makarony, sosy i sery włoskie do −30%.", "en": "Italian pasta, sauces and cheese up to 30% off."}),
        PromotionSpec("Druga sztuka −50%", today, today + timedelta(days=10),
                      {"pl": "Na wybrane napoje druga sztuka o połowę taniej.", "en": "Second drink half price."}),
    ]


VACANCIES = [
    VacancySpec("Kasjer-sprzedawca", "Warszawa", "Umowa o pracę, elastyczny grafik, karta Multisport.", "DP0001"),
    VacancySpec("Zastępca kierownika sklepu", "Kraków", "Doświadczenie w handlu min. 1 rok."),
    VacancySpec("Technik chłodnictwa", "Poznań", "Serwis urządzeń chłodniczych w sklepach regionu wielkopolskiego."),
]

USERS = [
    UserSpec("dp-supervisor", "Katarzyna", "Nowak", "supervisor", "pl", "Europe/Warsaw"),
    UserSpec("dp-agent1", "Piotr", "Wiśniewski", "agent", "pl", "Europe/Warsaw"),
    UserSpec("dp-agent2", "Oksana", "Melnyk", "agent", "pl", "Europe/Warsaw", note="pl/uk"),
    UserSpec("dp-hq", "Marek", "Zieliński", "client_staff", "pl", "Europe/Warsaw", department="ops", is_staff=True,
             note="dział operacji sklepowych, dostęp do panelu admina"),
    UserSpec("dp-serwis-maz", "Tomasz", "Wójcik", "client_staff", "pl", "Europe/Warsaw",
             department="tech-mazowieckie", note="kierownik serwisu regionu mazowieckiego"),
    UserSpec("dp-store", "Agnieszka", "Kamińska", "store_staff", "pl", "Europe/Warsaw", store="DP0001",
             note="kierownik sklepu DP0001"),
]


def spec(today: date) -> TenantSpec:
    return TenantSpec(
        slug="dyskont-pl", name="Dyskont PL", language="pl", time_zone="Europe/Warsaw", prefix="DP",
        stores=_stores(), departments=DEPARTMENTS, categories=CATEGORIES, templates=TEMPLATES, users=USERS,
        reporter=reporter, staff_reporter=staff_reporter, region_department=region_department,
        products=_products(), stock_for_all_stores=True, promotions=_promotions(today), vacancies=VACANCIES,
        holidays=_calendar(today), ticket_share=32, settings=SETTINGS,
    )
