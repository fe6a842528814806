"""Corpus "look-alikes that are not PII": strings typical of chat APIs, full of digits.

`strings()` builds at least 10,000 of them deterministically (a seeded generator per kind):
timestamps (ISO 8601 and others), dates in several formats, UUIDs, hex and numeric ids, order
and tracking numbers, prices, version strings, IP addresses and the well-known card test numbers.
With `default_region: US` the detector must find nothing in any of them
(tests/detect/test_corpora.py); the rates for DE, IN and BR are in docs/masking.md.

Numeric ids are drawn the way chat APIs issue them: small database ids, 13-digit millisecond
epochs, 18/19-digit snowflakes. A random 10-digit id starting 2-9 *is* a valid US number in
form: no detector can tell it from one, so the corpus does not pretend otherwise.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from typing import Final

PER_KIND: Final = 520
MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Published test card numbers (Stripe, Adyen, Braintree docs): not anyone's.
CARDS: Final = (
    "4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222",
    "5200828282828210", "5105105105105100", "378282246310005", "371449635398431",
    "6011111111111117", "6011000990139424", "3056930009020004", "36227206271667",
    "3566002020360505", "6200000000000005", "4111111111111111", "4012888888881881",
)  # fmt: skip
WORDS: Final = ("ok", "see", "ref", "at", "on", "id", "status", "updated", "paid", "done")


def _epoch(rng: random.Random) -> int:
    return rng.randint(1_500_000_000, 1_800_000_000)


def _date(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(2015, 2030), rng.randint(1, 12), rng.randint(1, 28)


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def iso_timestamp(rng: random.Random) -> str:
    y, m, d = _date(rng)
    ms = f".{rng.randint(0, 999):03d}" if rng.random() < 0.5 else ""
    zone = rng.choice(("Z", "+00:00", "-05:00", "+05:30", "+0200", ""))
    return f"{y}-{m:02d}-{d:02d}T{_time(rng)}{ms}{zone}"


def other_timestamp(rng: random.Random) -> str:
    y, m, d = _date(rng)
    return rng.choice((
        f"{y}-{m:02d}-{d:02d} {_time(rng)}",
        f"{y}/{m:02d}/{d:02d} {_time(rng)}",
        f"{d:02d}.{m:02d}.{y} {_time(rng)[:5]}",
        f"{MONTHS[m - 1]} {d}, {y} {_time(rng)[:5]} PM",
        f"{y}{m:02d}{d:02d}T{_time(rng).replace(':', '')}Z",
        f"epoch {_epoch(rng)}",
        f"ts={_epoch(rng)}{rng.randint(0, 999):03d}",
        f"created_at: {_epoch(rng)}.{rng.randint(0, 999999):06d}",
    ))  # fmt: skip


def date(rng: random.Random) -> str:
    y, m, d = _date(rng)
    return rng.choice((
        f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d:02d}/{m:02d}/{y}",
        f"{d:02d}.{m:02d}.{y}", f"{d} {MONTHS[m - 1]} {y}", f"{y}{m:02d}{d:02d}",
        f"due {m}/{d}/{str(y)[2:]}", f"from {y}-{m:02d}-{d:02d} to {y}-{m:02d}-{d + 1:02d}",
    ))  # fmt: skip


def uuid_text(rng: random.Random) -> str:
    value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return rng.choice((value, value.upper(), value.replace("-", ""), f"conversation {value}"))


def hex_id(rng: random.Random) -> str:
    size = rng.choice((8, 12, 16, 24, 32, 40, 64))
    value = "".join(rng.choice("0123456789abcdef") for _ in range(size))
    return rng.choice((value, f"sha {value}", f"commit {value[:7]}", f"0x{value[:16]}"))


def numeric_id(rng: random.Random) -> str:
    value = rng.choice((
        rng.randint(1, 9_999_999),  # database ids
        _epoch(rng) * 1000 + rng.randint(0, 999),  # millisecond epochs
        rng.randint(10**17, 10**19 - 1),  # snowflakes
    ))  # fmt: skip
    return rng.choice((str(value), f"id: {value}", f'"message_id": {value}', f"#{value}"))


def order_number(rng: random.Random) -> str:
    y, _, _ = _date(rng)
    return rng.choice((
        f"Order #{rng.randint(100000, 999999)}", f"ORD-{y}-{rng.randint(0, 999999):06d}",
        f"order {rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
        f"invoice INV{y}{rng.randint(0, 99999):05d}", f"PO {rng.randint(10000, 99999)}",
        f"ticket #{rng.randint(1, 99999)}", f"RMA-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
    ))  # fmt: skip


def tracking_number(rng: random.Random) -> str:
    digits = string.digits
    ups = "1Z" + "".join(rng.choice(string.ascii_uppercase + digits) for _ in range(16))
    usps = "94" + "".join(rng.choice(digits) for _ in range(20))
    spaced = " ".join(usps[i : i + 4] for i in range(0, 22, 4))
    return rng.choice((
        f"UPS {ups}", f"USPS {usps}", f"tracking {spaced}",
        f"DHL JD{rng.randint(10**17, 10**18 - 1)}", f"Royal Mail AB{rng.randint(10**8, 10**9 - 1)}GB",
    ))  # fmt: skip


def price(rng: random.Random) -> str:
    whole, cents = rng.randint(0, 99_999), rng.randint(0, 99)
    return rng.choice((
        f"${whole:,}.{cents:02d}", f"€ {whole:,}.{cents:02d}".replace(",", " "),
        f"{whole:,}.{cents:02d} USD", f"R$ {whole:,},{cents:02d}".replace(",", "."),
        f"total: {whole}.{cents:02d}", f"₹{whole:,}", f"£{whole}.{cents:02d} incl. VAT",
        f"{rng.randint(1, 99)} x ${rng.randint(1, 999)}.{cents:02d} = ${whole}.{cents:02d}",
    ))  # fmt: skip


def version(rng: random.Random) -> str:
    a, b, c = rng.randint(0, 30), rng.randint(0, 99), rng.randint(0, 999)
    return rng.choice((
        f"v{a}.{b}.{c}", f"{a}.{b}.{c}-beta.{rng.randint(1, 9)}", f"release {a}.{b}",
        f"build {a}.{b}.{c}.{rng.randint(1000, 99999)}", f"Chatwoot {a}.{b}.{c}",
        f"Mozilla/5.0 Chrome/{rng.randint(90, 130)}.0.{rng.randint(1000, 6999)}.{c}",
    ))  # fmt: skip


def ip_address(rng: random.Random) -> str:
    v4 = ".".join(str(rng.randint(0, 255)) for _ in range(4))
    v6 = ":".join(f"{rng.randint(0, 0xFFFF):x}" for _ in range(8))
    return rng.choice((v4, f"from {v4}:{rng.randint(1024, 65535)}", v6, f"client_ip={v4}"))


def card_number(rng: random.Random) -> str:
    card = rng.choice(CARDS)
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    return rng.choice((card, spaced, spaced.replace(" ", "-"), f"card {spaced} exp 12/27"))


def measurement(rng: random.Random) -> str:
    return rng.choice((
        f"{rng.randint(1, 100)}%", f"{rng.randint(1, 2000)} ms", f"{rng.randint(1, 999)} KB",
        f"{rng.randint(1, 23)}:{rng.randint(0, 59):02d}", f"lat {rng.uniform(-90, 90):.4f}",
        f"{rng.randint(1, 5)} of {rng.randint(5, 10)} stars", f"zip {rng.randint(10000, 99999)}",
        f"page {rng.randint(1, 500)}/{rng.randint(500, 999)}", f"{rng.randint(100, 1920)}x{rng.randint(100, 1080)}",
    ))  # fmt: skip


KINDS: Final[tuple[Callable[[random.Random], str], ...]] = (
    iso_timestamp, other_timestamp, date, uuid_text, hex_id, numeric_id, order_number,
    tracking_number, price, version, ip_address, card_number, measurement,
)  # fmt: skip


def strings() -> list[str]:
    """Every kind, `PER_KIND` times alone and `PER_KIND` times inside a chat sentence."""
    out: list[str] = []
    for index, kind in enumerate(KINDS):
        rng = random.Random(f"lookalike-{index}")
        for n in range(PER_KIND):
            out.append(kind(rng))
            word = WORDS[n % len(WORDS)]
            out.append(f"{word} {kind(rng)}, thanks!")
    return out
