"""Vostok-Market: a Far-East supermarket chain (the SPAR hotline case): 40 stores in five time zones, ru."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random
from typing import Any

from linia.demo.common import (
    ALWAYS_OPEN,
    CategorySpec,
    DepartmentSpec,
    ExceptionSpec,
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

DOMAIN = "vostok-market.example"

# city, slug, region, time zone, lat, lon, phone prefix, postcode prefix, store count, streets
CITIES: list[tuple[str, str, str, str, float, float, str, str, int, list[str]]] = [
    ("Владивосток", "vladivostok", "Приморский край", "Asia/Vladivostok", 43.1155, 131.8855, "+7 423 2", "6900",
     14, ["ул. Светланская", "ул. Алеутская", "Океанский проспект", "проспект 100-летия Владивостока",
          "ул. Русская", "ул. Борисенко", "ул. Калинина", "ул. Некрасовская", "ул. Шилкинская", "ул. Толстого",
          "ул. Снеговая", "ул. Адмирала Фокина", "ул. Пологая", "ул. Нерчинская"]),
    ("Хабаровск", "khabarovsk", "Хабаровский край", "Asia/Vladivostok", 48.4802, 135.0719, "+7 4212 ", "6800",
     8, ["ул. Муравьёва-Амурского", "ул. Карла Маркса", "ул. Ленина", "ул. Серышева", "ул. Пушкина",
         "ул. Тихоокеанская", "ул. Краснодарская", "ул. Шелеста"]),
    ("Находка", "nakhodka", "Приморский край", "Asia/Vladivostok", 42.8240, 132.8928, "+7 4236 ", "6929",
     3, ["Находкинский проспект", "ул. Ленинская", "ул. Постышева"]),
    ("Уссурийск", "ussuriysk", "Приморский край", "Asia/Vladivostok", 43.7972, 131.9518, "+7 4234 ", "6925",
     3, ["ул. Некрасова", "ул. Пушкина", "ул. Чичерина"]),
    ("Артём", "artyom", "Приморский край", "Asia/Vladivostok", 43.3545, 132.1888, "+7 42337 ", "6927",
     2, ["ул. Кирова", "ул. Фрунзе"]),
    ("Арсеньев", "arsenyev", "Приморский край", "Asia/Vladivostok", 44.1623, 133.2696, "+7 42361 ", "6923",
     1, ["ул. Ленинская"]),
    ("Спасск-Дальний", "spassk-dalny", "Приморский край", "Asia/Vladivostok", 44.5960, 132.8136, "+7 42352 ",
     "6922", 1, ["ул. Ленинская"]),
    ("Благовещенск", "blagoveshchensk", "Амурская область", "Asia/Yakutsk", 50.2907, 127.5272, "+7 4162 ",
     "6750", 3, ["ул. Амурская", "ул. Зейская", "ул. Горького"]),
    ("Южно-Сахалинск", "yuzhno-sakhalinsk", "Сахалинская область", "Asia/Sakhalin", 46.9591, 142.7381,
     "+7 4242 ", "6930", 3, ["Коммунистический проспект", "ул. Ленина", "ул. Сахалинская"]),
    ("Петропавловск-Камчатский", "petropavlovsk", "Камчатский край", "Asia/Kamchatka", 53.0452, 158.6483,
     "+7 4152 ", "6830", 2, ["проспект Карла Маркса", "ул. Ленинская"]),
]
CITY_SLUG = {c[0]: c[1] for c in CITIES}


def _hours(rng: Random, city: str, index: int) -> dict[str, Any]:
    if city in ("Владивосток", "Хабаровск") and index % 4 == 0:
        return ALWAYS_OPEN
    if city in ("Владивосток", "Хабаровск", "Находка") and index % 5 == 2:
        return weekly(["08:00-01:00"])  # closes after midnight
    if city in ("Арсеньев", "Спасск-Дальний", "Петропавловск-Камчатский"):
        return weekly(["09:00-22:00"], sunday=["10:00-21:00"])
    return weekly(["08:00-23:00"])


def _stores() -> list[StoreSpec]:
    rng = Random("vostok-stores")
    stores: list[StoreSpec] = []
    for city, _slug, region, tz, lat, lon, phone, post, count, streets in CITIES:
        for i in range(count):
            street = streets[i % len(streets)]
            short = street.replace("ул. ", "")
            house = rng.randrange(1, 120)
            la, lo = jitter(rng, lat, lon, 0.03 if count > 3 else 0.012)
            local = digits(rng, 10 - len(phone.replace("+7", "").replace(" ", "")))
            stores.append(StoreSpec(
                code=f"VM{len(stores) + 1:03d}", name=f"Восток-Маркет {short}",
                address=f"{post}{rng.randrange(10, 99)}, г. {city}, {street}, д. {house}", city=city, region=region,
                latitude=la, longitude=lo, phone=f"{phone}{local[:-4]}-{local[-4:-2]}-{local[-2:]}".replace("  ", " "),
                time_zone=tz, opening_hours=_hours(rng, city, i),
            ))
    return stores


DEPARTMENTS = [
    DepartmentSpec("clients", "Отдел по работе с клиентами", "customer_relations", f"clients@{DOMAIN}"),
    DepartmentSpec("hr", "Отдел персонала (HR)", "hr", f"hr@{DOMAIN}"),
    DepartmentSpec("accounting", "Бухгалтерия", "accounting", f"buh@{DOMAIN}"),
    DepartmentSpec("marketing", "Отдел маркетинга", "other", f"marketing@{DOMAIN}"),
    *[DepartmentSpec(f"region-{c[1]}", f"Региональный офис — {c[0]}", "regional", f"{c[1]}@{DOMAIN}", c[2])
      for c in CITIES],
]

_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$", "title": "Дата покупки"}
_RECEIPT = {"type": "string", "pattern": r"^\d{4,12}$", "title": "Номер чека"}
COMPLAINT_SCHEMA = {
    "type": "object",
    "properties": {"receipt_number": _RECEIPT, "purchase_date": _DATE,
                   "product": {"type": "string", "minLength": 2, "title": "Товар"}},
    "required": ["purchase_date", "product"],
}
STAFF_SCHEMA = {
    "type": "object",
    "properties": {"receipt_number": _RECEIPT, "purchase_date": _DATE,
                   "employee": {"type": "string", "title": "Сотрудник (если известен)"}},
    "required": ["purchase_date"],
}
VACANCY_SCHEMA = {
    "type": "object",
    "properties": {"position": {"type": "string", "minLength": 2, "title": "Должность"},
                   "city": {"type": "string", "minLength": 2, "title": "Город"},
                   "phone": {"type": "string", "pattern": r"^\+?[0-9 ()-]{7,20}$", "title": "Телефон"}},
    "required": ["position", "city", "phone"],
}
PIZZA_SCHEMA = {
    "type": "object",
    "properties": {
        "store_code": {"type": "string", "pattern": r"^VM\d{3}$", "title": "Магазин"},
        "pickup_time": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$", "title": "Время получения"},
        "items": {"type": "array", "minItems": 1, "title": "Состав заказа",
                  "items": {"type": "object", "required": ["name", "qty"],
                            "properties": {"name": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}}},
    },
    "required": ["store_code", "pickup_time", "items"],
}
LOYALTY_SCHEMA = {"type": "object",
                  "properties": {"card_number": {"type": "string", "pattern": r"^\d{13}$", "title": "Номер карты"}}}
AVAILABILITY_SCHEMA = {"type": "object", "properties": {"product": {"type": "string", "title": "Товар"}},
                       "required": ["product"]}

CATEGORIES = [
    CategorySpec("general", "Общие вопросы", {"en": "General questions"}, department="clients"),
    CategorySpec("general-hours", "Режим работы", {"en": "Opening hours"}, "general", "clients"),
    CategorySpec("general-addresses", "Адреса магазинов", {"en": "Store addresses"}, "general", "clients"),
    CategorySpec("general-delivery", "Условия доставки", {"en": "Delivery terms"}, "general", "clients"),
    CategorySpec("general-promotions", "Акции", {"en": "Promotions"}, "general", "marketing"),
    CategorySpec("availability", "Наличие товара", {"en": "Product availability"}, "", "clients",
                 AVAILABILITY_SCHEMA),
    CategorySpec("complaints", "Жалобы", {"en": "Complaints"}, "", "clients"),
    CategorySpec("complaints-quality", "Качество товара", {"en": "Product quality"}, "complaints", "clients",
                 COMPLAINT_SCHEMA),
    CategorySpec("complaints-staff", "Работа персонала", {"en": "Staff"}, "complaints", "clients", STAFF_SCHEMA),
    CategorySpec("vacancies", "Вакансии", {"en": "Vacancies"}, "", "hr", VACANCY_SCHEMA),
    CategorySpec("pizza", "Предзаказ пиццы", {"en": "Pizza pre-order"}, "", "", PIZZA_SCHEMA),
    CategorySpec("loyalty", "Карта лояльности", {"en": "Loyalty card"}, "", "clients", LOYALTY_SCHEMA),
    CategorySpec("suggestions", "Предложения", {"en": "Suggestions"}, "", "marketing"),
    # неисправности, о которых магазины сообщают через портал (linia.portal находит их по этим кодам)
    CategorySpec("fault-equipment", "Неисправность оборудования", {"en": "Equipment fault"}, "", "clients"),
    CategorySpec("fault-fittings", "Торговая мебель и двери", {"en": "Fittings"}, "", "clients"),
    CategorySpec("fault-building", "Здание и инженерные системы", {"en": "Building"}, "", "clients"),
]
for _c in CATEGORIES:
    _c.names.setdefault("ru", _c.name)

# group, product, brands, sizes, base price (rubles)
_PRODUCT_BASES: list[tuple[str, str, list[str], list[str], int]] = [
    ("Молочные продукты", "Молоко 2,5%", ["Простоквашино", "Домик в деревне", "Приморская ферма"], ["900 мл", "1,4 л"], 89),
    ("Молочные продукты", "Кефир 3,2%", ["Простоквашино", "Приморская ферма"], ["450 мл", "900 мл"], 79),
    ("Молочные продукты", "Творог 5%", ["Савушкин", "Приморская ферма"], ["200 г", "400 г"], 119),
    ("Молочные продукты", "Сметана 20%", ["Простоквашино", "Домик в деревне"], ["300 г", "540 г"], 99),
    ("Молочные продукты", "Сыр Российский", ["Киприно", "Сырная долина"], ["200 г", "400 г"], 219),
    ("Молочные продукты", "Йогурт питьевой клубника", ["Агуша", "Активиа"], ["270 г"], 69),
    ("Молочные продукты", "Масло сливочное 82,5%", ["Экомилк", "Брест-Литовск"], ["180 г"], 229),
    ("Хлеб и выпечка", "Хлеб Бородинский", ["Хлебозавод №1", "Дальхлеб"], ["400 г"], 59),
    ("Хлеб и выпечка", "Батон нарезной", ["Хлебозавод №1", "Дальхлеб"], ["350 г"], 49),
    ("Хлеб и выпечка", "Лаваш армянский", ["Дальхлеб"], ["200 г"], 45),
    ("Хлеб и выпечка", "Круассан с шоколадом", ["Собственное производство"], ["70 г", "4 шт"], 59),
    ("Бакалея", "Рис круглозёрный", ["Мистраль", "Националь"], ["900 г"], 129),
    ("Бакалея", "Гречка ядрица", ["Мистраль", "Увелка"], ["900 г"], 119),
    ("Бакалея", "Макароны спагетти", ["Barilla", "Макфа"], ["450 г"], 99),
    ("Бакалея", "Мука пшеничная", ["Макфа", "Белиевская"], ["1 кг", "2 кг"], 79),
    ("Бакалея", "Сахар-песок", ["Русский сахар"], ["1 кг"], 89),
    ("Бакалея", "Соль поваренная", ["Экстра"], ["1 кг"], 29),
    ("Бакалея", "Масло подсолнечное рафинированное", ["Золотая семечка", "Олейна"], ["1 л"], 149),
    ("Бакалея", "Овсяные хлопья", ["Геркулес", "Ясно солнышко"], ["500 г"], 79),
    ("Бакалея", "Чай чёрный листовой", ["Greenfield", "Майский"], ["100 г", "25 пак."], 139),
    ("Бакалея", "Кофе молотый", ["Jacobs", "Lavazza"], ["250 г"], 449),
    ("Бакалея", "Кофе растворимый", ["Nescafé Gold", "Jacobs Monarch"], ["95 г", "190 г"], 399),
    ("Консервы", "Горошек зелёный", ["Бондюэль", "Global Village"], ["400 г"], 99),
    ("Консервы", "Кукуруза сладкая", ["Бондюэль", "Global Village"], ["340 г"], 109),
    ("Консервы", "Сайра тихоокеанская", ["Доброфлот", "Примрыбснаб"], ["250 г"], 169),
    ("Консервы", "Тушёнка говяжья", ["Главпродукт", "Совок"], ["325 г"], 229),
    ("Рыба и морепродукты", "Минтай филе замороженное", ["Доброфлот", "Примрыбснаб"], ["500 г", "1 кг"], 289),
    ("Рыба и морепродукты", "Кальмар тушка", ["Доброфлот"], ["500 г"], 349),
    ("Рыба и морепродукты", "Горбуша холодного копчения", ["Камчатский улов", "Дары Сахалина"], ["200 г"], 319),
    ("Рыба и морепродукты", "Икра лососёвая", ["Камчатский улов", "Дары Сахалина"], ["100 г", "250 г"], 990),
    ("Рыба и морепродукты", "Морская капуста салат", ["Примрыбснаб", "Дары моря"], ["250 г"], 89),
    ("Мясо и птица", "Филе куриное охлаждённое", ["Михайловский бройлер", "Приморский бройлер"], ["1 кг"], 379),
    ("Мясо и птица", "Фарш говяжий", ["Мираторг", "Приморская ферма"], ["400 г"], 299),
    ("Мясо и птица", "Колбаса докторская", ["Останкино", "Хабаровский мясокомбинат"], ["400 г"], 329),
    ("Мясо и птица", "Сосиски молочные", ["Останкино", "Хабаровский мясокомбинат"], ["450 г"], 279),
    ("Мясо и птица", "Пельмени сибирские", ["Сибирская коллекция", "Цезарь"], ["800 г"], 389),
    ("Овощи и фрукты", "Картофель молодой", ["Приморские овощи"], ["1 кг", "2,5 кг"], 69),
    ("Овощи и фрукты", "Огурцы короткоплодные", ["Приморские овощи", "Теплицы Хабаровска"], ["1 кг"], 199),
    ("Овощи и фрукты", "Томаты черри", ["Приморские овощи", "Теплицы Хабаровска"], ["250 г"], 159),
    ("Овощи и фрукты", "Бананы", ["Эквадор"], ["1 кг"], 139),
    ("Овощи и фрукты", "Яблоки Гала", ["Китай", "Чили"], ["1 кг"], 169),
    ("Овощи и фрукты", "Мандарины", ["Китай", "Абхазия"], ["1 кг"], 189),
    ("Напитки", "Вода питьевая негазированная", ["Шмаковская", "Bonaqua"], ["0,5 л", "1,5 л", "5 л"], 39),
    ("Напитки", "Сок апельсиновый", ["Добрый", "Rich"], ["1 л"], 149),
    ("Напитки", "Квас", ["Очаковский", "Никола"], ["1,5 л"], 99),
    ("Напитки", "Лимонад Тархун", ["Черноголовка"], ["0,5 л", "1,5 л"], 79),
    ("Снеки и сладости", "Шоколад молочный", ["Алёнка", "Milka"], ["90 г"], 99),
    ("Снеки и сладости", "Печенье овсяное", ["Любятово", "Посиделкино"], ["300 г"], 89),
    ("Снеки и сладости", "Чипсы со сметаной и луком", ["Lay's", "Русская картошка"], ["140 г"], 129),
    ("Снеки и сладости", "Конфеты Птичье молоко", ["Приморский кондитер", "Рот Фронт"], ["250 г"], 259),
    ("Снеки и сладости", "Пряники медовые", ["Яшкино", "Приморский кондитер"], ["350 г"], 99),
    ("Бытовая химия", "Средство для мытья посуды", ["Fairy", "AOS"], ["450 мл", "900 мл"], 149),
    ("Бытовая химия", "Стиральный порошок автомат", ["Ariel", "Tide"], ["1,5 кг", "3 кг"], 499),
    ("Бытовая химия", "Туалетная бумага", ["Zewa", "Папия"], ["4 рул.", "8 рул."], 189),
    ("Кулинария", "Пицца Пепперони", ["Собственное производство"], ["30 см", "40 см"], 499),
    ("Кулинария", "Пицца Маргарита", ["Собственное производство"], ["30 см", "40 см"], 449),
    ("Кулинария", "Салат Оливье", ["Собственное производство"], ["250 г"], 159),
    ("Кулинария", "Курица гриль", ["Собственное производство"], ["1 шт"], 399),
]
PIZZAS = ["Пицца Пепперони", "Пицца Маргарита", "Пицца Четыре сыра", "Пицца Гавайская", "Пицца с морепродуктами"]


def _products() -> list[ProductSpec]:
    rng = Random("vostok-products")
    products: list[ProductSpec] = []
    for group, base, brands, sizes, price in _PRODUCT_BASES:
        for brand in brands:
            for size in sizes:
                scale = 1.0 + 0.6 * sizes.index(size)
                products.append(ProductSpec(
                    sku=f"46{digits(rng, 11)}", name=f"{base} {brand}, {size}",
                    attributes={"brand": brand, "size": size, "group": group,
                                "price_rub": round(price * scale * rng.uniform(0.9, 1.15))},
                ))
    while len(products) < 300:  # fill up with store-brand variants
        group, base, _brands, sizes, price = _PRODUCT_BASES[len(products) % len(_PRODUCT_BASES)]
        size = sizes[-1]
        products.append(ProductSpec(sku=f"46{digits(rng, 11)}", name=f"{base} «Восток-Маркет», {size}",
                                    attributes={"brand": "Восток-Маркет", "size": size, "group": group,
                                                "private_label": True, "price_rub": round(price * 0.85)}))
    return products[:300]


def _next(today: date, month: int, day: int) -> date:
    candidate = date(today.year, month, day)
    return candidate if candidate >= today else date(today.year + 1, month, day)


def _calendar(today: date) -> tuple[list[HolidaySpec], list[ExceptionSpec]]:
    holidays = [
        HolidaySpec(_next(today, 12, 31), "Канун Нового года", ("08:00-18:00",)),
        HolidaySpec(_next(today, 1, 1), "Новый год", ("12:00-22:00",)),
        HolidaySpec(_next(today, 1, 7), "Рождество Христово", ("09:00-22:00",)),
    ]
    exceptions = [
        ExceptionSpec("VM003", today + timedelta(days=5), (), "Санитарный день"),
        ExceptionSpec("VM016", today + timedelta(days=2), ("08:00-14:00",), "Инвентаризация"),
        ExceptionSpec("VM038", today + timedelta(days=9), ("12:00-23:00",), "Плановое отключение электроэнергии до 12:00"),
    ]
    return holidays, exceptions


def _promotions(today: date) -> list[PromotionSpec]:
    week = timedelta(days=7)
    return [
        PromotionSpec("Неделя молочных продуктов: −20%", today - timedelta(days=3), today + week,
                      {"ru": "Скидка 20% на молоко, кефир, творог и сметану во всех магазинах сети.",
                       "en": "20% off milk, kefir, cottage cheese and sour cream in every store."}),
        PromotionSpec("Пицца дня за 399 ₽", today - week, today + 3 * week,
                      {"ru": "Каждый день одна пицца 30 см за 399 ₽. Предзаказ по телефону горячей линии.",
                       "en": "One 30 cm pizza a day for 399 RUB. Pre-order through the hotline."},
                      ("VM001", "VM002", "VM005", "VM015", "VM016")),
        PromotionSpec("Камчатский лосось: −15%", today, today + 2 * week,
                      {"ru": "Скидка 15% на горбушу, кижуч и икру лососёвую.",
                       "en": "15% off pink salmon, coho and salmon roe."}, ("VM039", "VM040")),
        PromotionSpec("Новогодние подарочные наборы", _next(today, 12, 1), _next(today, 12, 31),
                      {"ru": "Сладкие подарки для детей и корпоративные наборы — заказ от 10 штук через горячую линию.",
                       "en": "Sweet gift boxes for children and corporate sets; orders of 10+ via the hotline."}),
    ]


VACANCIES = [
    VacancySpec("Продавец-кассир", "Владивосток", "График 2/2, официальное оформление, обучение.", "VM001"),
    VacancySpec("Повар-пиццамейкер", "Хабаровск", "Смены по 12 часов, опыт от 6 месяцев.", "VM015"),
    VacancySpec("Пекарь", "Находка", "Ночные смены, доплата за ночь 20%.", "VM023"),
    VacancySpec("Кладовщик", "Уссурийск", "Приёмка товара, работа с ТСД.", ""),
    VacancySpec("Администратор торгового зала", "Южно-Сахалинск", "Опыт управления персоналом от 1 года.", ""),
    VacancySpec("Водитель-экспедитор", "Владивосток", "Категория C, доставка по Приморью.", ""),
]

FIRST_F = ["Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Юлия", "Екатерина",
           "Дарья", "Алина", "Ксения", "Виктория"]
FIRST_M = ["Александр", "Дмитрий", "Сергей", "Андрей", "Алексей", "Максим", "Иван", "Евгений", "Никита",
           "Артём", "Владимир", "Роман", "Павел", "Игорь"]
LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков",
        "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов",
        "Николаев", "Орлов", "Андреев", "Макаров", "Никитин", "Захаров"]
_KOREAN = ["Ким", "Пак", "Ли", "Цой", "Тен"]  # common in Primorye; not gendered


def _person(rng: Random) -> tuple[str, str]:
    female = rng.random() < 0.55
    first = rng.choice(FIRST_F if female else FIRST_M)
    last = rng.choice(LAST + _KOREAN)
    if female and last not in _KOREAN:
        last += "а"
    return first, last


def reporter(rng: Random) -> Reporter:
    first, last = _person(rng)
    phone = f"+7 {rng.choice(['914', '924', '902', '908', '984', '964'])} {digits(rng, 3)}-{digits(rng, 2)}-{digits(rng, 2)}"
    email = f"{slug_ascii(first)}.{slug_ascii(last)}{rng.randrange(10, 99)}@mail.example" if rng.random() < 0.5 else ""
    return Reporter(f"{first} {last}", phone if rng.random() < 0.9 or not email else "", email)


def staff_reporter(rng: Random, store: StoreSpec) -> Reporter:
    first, last = _person(rng)
    return Reporter(f"{first} {last} (администратор, {store.code})", store.phone, "")


def _date_before(ctx: TicketContext) -> str:
    return (date.today() - timedelta(days=ctx.rng.randrange(1, 10))).isoformat()  # noqa: DTZ011 (a demo purchase date)


def _complaint(ctx: TicketContext) -> dict[str, Any]:
    fields: dict[str, Any] = {"purchase_date": _date_before(ctx), "product": ctx.product}
    if ctx.rng.random() < 0.7:
        fields["receipt_number"] = digits(ctx.rng, 6)
    return fields


def _staff(ctx: TicketContext) -> dict[str, Any]:
    fields: dict[str, Any] = {"purchase_date": _date_before(ctx)}
    if ctx.rng.random() < 0.5:
        fields["receipt_number"] = digits(ctx.rng, 6)
    return fields


def _vacancy(ctx: TicketContext) -> dict[str, Any]:
    return {"position": ctx.rng.choice(["Продавец-кассир", "Пекарь", "Повар-пиццамейкер", "Кладовщик"]),
            "city": ctx.store.city if ctx.store else "Владивосток", "phone": ctx.reporter.phone or "+7 914 000-00-00"}


def _pizza(ctx: TicketContext) -> dict[str, Any]:
    items = [{"name": name, "qty": ctx.rng.randrange(1, 3)} for name in ctx.rng.sample(PIZZAS, ctx.rng.randrange(1, 4))]
    return {"store_code": ctx.store.code if ctx.store else "VM001",
            "pickup_time": f"{ctx.rng.randrange(11, 21):02d}:{ctx.rng.choice(['00', '15', '30', '45'])}", "items": items}


def _loyalty(ctx: TicketContext) -> dict[str, Any]:
    return {"card_number": "7770" + digits(ctx.rng, 9)} if ctx.rng.random() < 0.8 else {}


TEMPLATES = [
    TicketTemplate("general-hours", "Режим работы магазина: {store}",
                   "Здравствуйте! Подскажите, до скольки сегодня работает магазин по адресу {address}? "
                   "И как вы работаете в новогодние праздники?", ("call", "chat", "messenger"),
                   reply="Здравствуйте, {name}! Магазин по адресу {address} работает: {hours}. 31 декабря — до 18:00, "
                         "1 января — с 12:00 до 22:00.", weight=5),
    TicketTemplate("general-addresses", "Ближайший магазин в городе {city}",
                   "Мы переехали в {city}, подскажите адрес ближайшего к центру магазина и телефон.",
                   ("call", "chat", "sms"),
                   reply="Ближайший магазин: {address}, телефон {store_phone}, режим работы: {hours}.", weight=3),
    TicketTemplate("general-delivery", "Доставка продуктов на дом",
                   "Есть ли у вас доставка в {city}? Какая минимальная сумма заказа и сколько стоит доставка?",
                   ("call", "chat", "webform"),
                   reply="Доставка работает через приложение «Восток-Маркет»: минимальный заказ 1 500 ₽, "
                         "бесплатно от 3 000 ₽, интервал — 2 часа.", weight=2),
    TicketTemplate("general-promotions", "Акция на молочную продукцию",
                   "Видели рекламу скидки 20% на молочку. Действует ли она в магазине {address}?",
                   ("call", "messenger", "chat"),
                   reply="Да, акция «Неделя молочных продуктов» действует во всех магазинах сети.", weight=2),
    TicketTemplate("availability", "Наличие товара: {product}",
                   "Добрый день! Есть ли в наличии «{product}» в магазине {address}? Хочу подъехать вечером.",
                   ("call", "chat", "messenger"),
                   reply="Проверили по остаткам: «{product}» есть в магазине {address}. Ждём вас!",
                   fields=lambda ctx: {"product": ctx.product}, weight=5),
    TicketTemplate("complaints-quality", "Просроченный товар: {product}",
                   "Вчера покупали «{product}» в магазине {address}, дома увидели, что срок годности истёк. "
                   "Чек сохранился. Просим вернуть деньги.", ("call", "email", "webform"),
                   reply="{name}, приносим извинения. Обращение передано в отдел по работе с клиентами, с вами "
                         "свяжутся в течение двух рабочих дней. Вернуть товар можно по чеку в любом магазине сети.",
                   note="Передано в отдел по работе с клиентами, запрошено фото чека и упаковки.",
                   follow_up="Фото чека отправили на почту, номер чека указан в обращении.",
                   fields=_complaint, priority="high", weight=4, tags=("возврат",)),
    TicketTemplate("complaints-quality", "Испорченный товар",
                   "В упаковке «{product}», купленной в магазине {address}, обнаружена плесень. Это уже второй раз.",
                   ("call", "email", "messenger"),
                   reply="Спасибо, что сообщили. Партия снята с продажи для проверки, отдел качества свяжется с вами.",
                   note="Сообщено управляющему магазина, партия заблокирована.", fields=_complaint,
                   priority="high", weight=2),
    TicketTemplate("complaints-staff", "Жалоба на кассира",
                   "Сегодня около 19:00 в магазине {address} кассир отказалась пробить товар по акционной цене и "
                   "нагрубила. Просим разобраться.", ("call", "email", "webform"),
                   reply="Приносим извинения. Ситуация передана руководству магазина, о результатах проверки сообщим.",
                   note="Направлено в региональный офис, нужен ответ управляющего.", fields=_staff,
                   priority="high", department="@region", weight=2),
    TicketTemplate("complaints-staff", "Очереди на кассах",
                   "В магазине {address} работала одна касса из шести, в очереди пришлось стоять 25 минут.",
                   ("call", "messenger", "webform"),
                   reply="Спасибо за обратную связь, передали управляющему магазина.", fields=_staff,
                   department="@region", weight=2),
    TicketTemplate("vacancies", "Вакансия в городе {city}",
                   "Здравствуйте, ищу работу в {city}. Какие есть вакансии, условия и график?",
                   ("call", "chat", "webform"),
                   reply="Спасибо за интерес! Анкета передана в отдел персонала, HR свяжется с вами в течение трёх "
                         "рабочих дней.", fields=_vacancy, weight=3),
    TicketTemplate("pizza", "Предзаказ пиццы к {f_pickup_time}",
                   "Хочу заказать: {f_items}. Заберу в магазине {address} к {f_pickup_time}.", ("call",),
                   reply="Заказ принят и передан в магазин {store}. Оплата при получении.",
                   fields=_pizza, department="@region", weight=4, tags=("пицца",)),
    TicketTemplate("loyalty", "Не начислились баллы",
                   "Покупка на 2 340 ₽ в магазине {address}, баллы на карту так и не пришли.",
                   ("call", "chat", "email"),
                   reply="Баллы начисляются в течение 48 часов. Если не поступят — напишите нам, проверим вручную.",
                   follow_up="Прошло уже три дня, баллов так и нет.", fields=_loyalty, weight=3),
    TicketTemplate("loyalty", "Потеряна карта лояльности",
                   "Карта лояльности потерялась. Можно ли перенести баллы на новую карту?", ("call", "chat"),
                   reply="Да: получите новую карту на кассе и сообщите нам оба номера, баллы перенесём.",
                   fields=_loyalty, needs_store=False),
    TicketTemplate("suggestions", "Предложение по ассортименту",
                   "Было бы здорово, если бы в магазине {address} появилась полка с безглютеновыми продуктами.",
                   ("webform", "email", "messenger"),
                   reply="Спасибо! Передали ваше предложение в отдел маркетинга."),
]


def region_department(store: StoreSpec) -> str:
    return f"region-{CITY_SLUG[store.city]}"


USERS = [
    UserSpec("vm-supervisor", "Ольга", "Смирнова", "supervisor", "ru", "Asia/Vladivostok",
             note="руководитель смены горячей линии"),
    UserSpec("vm-agent1", "Анна", "Ким", "agent", "ru", "Asia/Vladivostok"),
    UserSpec("vm-agent2", "Дмитрий", "Пак", "agent", "ru", "Europe/Moscow", note="работает из Москвы (UTC+3)"),
    UserSpec("vm-hq", "Елена", "Соколова", "client_staff", "ru", "Asia/Vladivostok", department="clients",
             is_staff=True, note="отдел по работе с клиентами, доступ в админку"),
    UserSpec("vm-khabarovsk", "Игорь", "Орлов", "client_staff", "ru", "Asia/Vladivostok",
             department="region-khabarovsk", note="региональный менеджер"),
    UserSpec("vm-store", "Светлана", "Ли", "store_staff", "ru", "Asia/Vladivostok", store="VM001",
             note="администратор магазина VM001"),
]


def spec(today: date) -> TenantSpec:
    holidays, exceptions = _calendar(today)
    return TenantSpec(
        slug="vostok-market", name="Восток-Маркет", language="ru", time_zone="Asia/Vladivostok", prefix="VM",
        stores=_stores(), departments=DEPARTMENTS, categories=CATEGORIES, templates=TEMPLATES, users=USERS,
        reporter=reporter, staff_reporter=staff_reporter, region_department=region_department,
        products=_products(), stock_for_all_stores=True, promotions=_promotions(today), vacancies=VACANCIES,
        holidays=holidays, exceptions=exceptions, ticket_share=38,
    )
