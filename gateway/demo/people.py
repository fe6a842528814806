"""The demo's population: countries with names, cities, companies and phone-number templates.

Everything here is invented. Phone templates are E.164 with `#` for a random digit and stay inside
ranges that libphonenumber considers valid (so masking and stamping have real work to do) yet are
reserved for fiction where a country has such a range (NANP 555-01xx, Ofcom's drama numbers).
Email addresses are only ever built on the RFC 2606 domains.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[str, ...]
    phone_templates: tuple[str, ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        "US",
        "United States",
        ("Jane", "Michael", "Emily", "Chris", "Ashley", "Daniel", "Megan", "Tyler"),
        ("Doe", "Johnson", "Miller", "Walker", "Nguyen", "Brooks", "Carter", "Reed"),
        ("San Francisco", "New York", "Chicago", "Austin", "Seattle", "Boston"),
        (
            "+1415555 01##",
            "+1212555 01##",
            "+1312555 01##",
            "+1512555 01##",
            "+1206555 01##",
            "+1617555 01##",
        ),
    ),
    Country(
        "CA",
        "Canada",
        ("Olivia", "Liam", "Chloe", "Noah"),
        ("Tremblay", "Roy", "MacDonald", "Gagnon"),
        ("Toronto", "Vancouver", "Montreal"),
        ("+1416555 01##", "+1604555 01##", "+1514555 01##"),
    ),
    Country(
        "GB",
        "United Kingdom",
        ("Oliver", "Amelia", "Harry", "Isla", "George"),
        ("Smith", "Taylor", "Hughes", "Patel", "Evans"),
        ("London", "Manchester", "Leeds"),
        ("+44207946 0###", "+44161496 0###", "+44113496 0###"),
    ),
    Country(
        "IN",
        "India",
        ("Priya", "Arjun", "Ananya", "Rohan", "Kavya"),
        ("Sharma", "Iyer", "Reddy", "Gupta", "Nair"),
        ("Bengaluru", "Mumbai", "Pune", "Hyderabad"),
        ("+9198765 4####", "+9191234 5####", "+9199876 5####"),
    ),
    Country(
        "BR",
        "Brazil",
        ("João", "Mariana", "Lucas", "Beatriz"),
        ("Silva", "Santos", "Oliveira", "Costa"),
        ("São Paulo", "Rio de Janeiro", "Curitiba"),
        ("+55119 1234 ####", "+55219 8765 ####"),
    ),
    Country(
        "MX",
        "Mexico",
        ("José", "Valeria", "Diego", "Ximena"),
        ("Hernández", "García", "Martínez", "López"),
        ("Ciudad de México", "Monterrey", "Guadalajara"),
        ("+5255 1234 ####", "+5281 8765 ####"),
    ),
    Country(
        "DE",
        "Germany",
        ("Lukas", "Hannah", "Felix", "Lea"),
        ("Müller", "Schmidt", "Becker", "Wagner"),
        ("Berlin", "Hamburg", "München"),
        ("+49151 2345 ####", "+4930 901 82##"),
    ),
    Country(
        "FR",
        "France",
        ("Camille", "Louis", "Manon", "Hugo"),
        ("Dubois", "Lefèvre", "Moreau", "Laurent"),
        ("Paris", "Lyon", "Marseille"),
        ("+336 12 34 ## ##", "+331 23 45 ## ##"),
    ),
    Country(
        "ES",
        "Spain",
        ("Lucía", "Pablo", "Carmen", "Javier"),
        ("Fernández", "Ruiz", "Navarro", "Romero"),
        ("Madrid", "Barcelona", "Valencia"),
        ("+34612 34 ## ##",),
    ),
    Country(
        "NG",
        "Nigeria",
        ("Chinedu", "Ngozi", "Tunde", "Amaka"),
        ("Okafor", "Adeyemi", "Eze", "Balogun"),
        ("Lagos", "Abuja", "Ibadan"),
        ("+234803 123 ####",),
    ),
    Country(
        "KE",
        "Kenya",
        ("Wanjiru", "Otieno", "Achieng", "Kamau"),
        ("Mwangi", "Odhiambo", "Kariuki", "Njoroge"),
        ("Nairobi", "Mombasa"),
        ("+254712 34####",),
    ),
    Country(
        "JP",
        "Japan",
        ("Haruto", "Yui", "Sota", "Aoi"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka"),
        ("Tokyo", "Osaka", "Kyoto"),
        ("+8190 1234 ####",),
    ),
    Country(
        "AU",
        "Australia",
        ("Jack", "Charlotte", "William", "Mia"),
        ("Wilson", "Thompson", "Kelly", "Ryan"),
        ("Sydney", "Melbourne", "Brisbane"),
        ("+61491 570 ###",),
    ),
    Country(
        "PH",
        "Philippines",
        ("Andrea", "Miguel", "Angelica", "Paolo"),
        ("Santos", "Reyes", "Cruz", "Bautista"),
        ("Manila", "Cebu City", "Davao City"),
        ("+63917 123 ####",),
    ),
    Country(
        "ID",
        "Indonesia",
        ("Putri", "Budi", "Siti", "Agus"),
        ("Wijaya", "Saputra", "Kusuma", "Hidayat"),
        ("Jakarta", "Surabaya", "Bandung"),
        ("+62812 3456 ###",),
    ),
    Country(
        "ZA",
        "South Africa",
        ("Thabo", "Lerato", "Sipho", "Naledi"),
        ("Nkosi", "Dlamini", "Mokoena", "van der Merwe"),
        ("Johannesburg", "Cape Town", "Durban"),
        ("+2782 123 ####",),
    ),
    Country(
        "IT",
        "Italy",
        ("Giulia", "Marco", "Chiara", "Luca"),
        ("Rossi", "Russo", "Ferrari", "Esposito"),
        ("Milano", "Roma", "Torino"),
        ("+39312 345 ####",),
    ),
    Country(
        "TR",
        "Türkiye",
        ("Elif", "Emre", "Zeynep", "Mehmet"),
        ("Yılmaz", "Kaya", "Demir", "Şahin"),  # noqa: RUF001 - Turkish dotless i
        ("İstanbul", "Ankara", "İzmir"),
        ("+90532 123 ## ##",),
    ),
    Country(
        "AR",
        "Argentina",
        ("Martina", "Santiago", "Sofía", "Mateo"),
        ("González", "Rodríguez", "Pérez", "Gómez"),
        ("Buenos Aires", "Córdoba", "Rosario"),
        ("+549 11 2345 ####",),
    ),
    Country(
        "AE",
        "United Arab Emirates",
        ("Fatima", "Omar", "Aisha", "Khalid"),
        ("Al Mansoori", "Al Hashimi", "Haddad", "Khoury"),
        ("Dubai", "Abu Dhabi"),
        ("+97150 123 ####",),
    ),
    Country(
        "PL",
        "Poland",
        ("Zofia", "Jakub", "Maja", "Kacper"),
        ("Nowak", "Kowalski", "Wiśniewska", "Wójcik"),
        ("Warszawa", "Kraków", "Gdańsk"),
        ("+48601 234 ###",),
    ),
)

# The US is the demo's home market, so it gets more customers than any other country.
COUNTRY_WEIGHTS: tuple[int, ...] = tuple(6 if c.code == "US" else 2 for c in COUNTRIES)

COMPANIES: tuple[str, ...] = (
    "Globex",
    "Initech",
    "Umbrella Retail",
    "Stark Logistics",
    "Wayne Foods",
    "Acme Travel",
    "Hooli",
    "Vandelay Imports",
    "Soylent Labs",
    "Cyberdyne Health",
    "Tyrell Fashion",
    "Wonka Sweets",
    "Pied Piper",
    "Massive Dynamic",
    "Oscorp Fitness",
    "",
)

EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net", "mail.example.com")

PLANS: tuple[str, ...] = ("free", "starter", "pro", "enterprise")

AGENTS: tuple[tuple[str, str], ...] = (
    ("Alex Morgan", "administrator"),
    ("Sam Rivera", "agent"),
    ("Priya Kapoor", "agent"),
    ("Jordan Lee", "agent"),
)
AGENT_EMAIL_DOMAIN = "helpdesk.example.com"
