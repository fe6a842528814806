"""A chat corpus for the text mask: phone numbers of many countries, in national and international
formats, embedded in sentences, plus digit runs that are not phone numbers."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

COUNTRIES = (
    "US", "CA", "GB", "DE", "FR", "IN", "BR", "MX", "AU", "JP", "CN", "ES", "IT", "NL", "ZA",
    "NG", "AE", "SG", "RU", "AR", "KR", "CH", "SE", "PL", "TR", "ID", "PH", "EG", "KE", "NZ",
)  # fmt: skip
TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE)

TEMPLATES = (
    "Call me at {} tomorrow.",
    "my number is {}",
    "({})",
    "Phone: {}, thanks!",
    "{} is my cell",
    "WhatsApp me on {}!!",
    "you can reach me at {} or jane.doe@example.com",
    "Tel.{} / fax 2024-05-01",
    "pls call {}\nor write to support@example.co.uk",
    "ok, order #100234 ({}) is fine",
    "Order 2024050112 shipped; contact {} if needed.",
    "我的电话是{}，谢谢",
    "call:{}; ext later",
)

# Digit runs that are not phones (they may still be, for some region: the corpus asserts equality
# with the matcher, not what the matcher decides).
NOT_PHONES = (
    "order #100234 shipped",
    "ORD-2024-000123 is ready",
    "created 2024-05-01T10:32:00Z by the bot",
    "meeting 2024-05-01 10:32, room 12",
    "on 05/01/2024 at 09:15:00",
    "id 3f2b9c1e-8d4a-4b6f-9e2d-1a2b3c4d5e6f",
    "total $1,234.56 incl. VAT",
    "total € 12.345,67",
    "release v1.2.3 on 192.168.10.254",
    "card 4111 1111 1111 1111 exp 12/27",
    "UPS 1Z999AA10123456784",
    "epoch 1714557600",
    "tracking 9400 1000 0000 0000 0000 00",
    "Chen Li. VLDB J. 12(3): 211-227 (2003).",
    "ISBN 978-3-16-148410-0",
    "lat 37.7749, lon -122.4194",
    "zip 94103-1234",
    "1,000,000 users",
    "SKU 0012345678905",
    "invoice INV-20240501-0042",
    "ref 2024050112345678",
    "abc8005001234def",
    "price 45% off, 99.99$",
    "2012-01-02 08:00:30 log line",
    "1 2 3 4 5 6 7 8 9 10 11 12",
    "Thanks, see you at 10:30!",
    "Great, it costs 25 EUR, 3 items",
)


def number_strings() -> list[str]:
    """Example numbers of every corpus country and type, written in several ways."""
    out: list[str] = []
    for region in COUNTRIES:
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
            out += [
                phonenumbers.format_number(number, PhoneNumberFormat.E164),
                phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
                national,
                "".join(ch for ch in national if ch.isdigit()),
                phonenumbers.format_out_of_country_calling_number(number, "US"),
                phonenumbers.format_out_of_country_calling_number(number, "GB"),
                phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL).replace(
                    " ", "."
                ),
            ]
    return out


def chat_texts() -> list[str]:
    """Every number in a sentence (templates in turn), the non-phones, and mixes of both."""
    numbers = number_strings()
    texts = [TEMPLATES[i % len(TEMPLATES)].format(n) for i, n in enumerate(numbers)]
    texts += NOT_PHONES
    texts += [
        f"{NOT_PHONES[i % len(NOT_PHONES)]}, call {n} or mail a{i}@example.com. {NOT_PHONES[-1 - i % len(NOT_PHONES)]}"
        for i, n in enumerate(numbers[::5])
    ]
    return texts
