"""Personal data in text: e-mails, phone numbers, Kazakh IIN/BIN, KZ IBANs, card numbers.

Numbers are only taken when they validate (IIN/BIN checksum and structure, IBAN mod 97,
Luhn), so that years, ISBNs, order numbers and random digit strings stay as they are.
Where matches overlap, the earlier type in `TYPES` wins (an IBAN's digits are not a
card, a card's are not a phone).
"""
from __future__ import annotations

import datetime
import json
import re

import pyarrow as pa

from operators.base import DocumentOperator

TYPES = ("email", "iban", "card", "iin", "phone")
PLACEHOLDERS = {kind: f"<{kind.upper()}>" for kind in TYPES}

# Lengths are bounded (RFC 5321 allows 64 before the @) so that a long run of word
# characters without an @ costs linear, not quadratic, time.
EMAIL = re.compile(r"[\w.%+-]{1,64}@(?:[\w-]{1,63}\.){1,8}[^\W\d_]{2,24}(?![\w@])")
IBAN_KZ = re.compile(r"(?<!\w)KZ\d{2}(?: ?[0-9A-Z]{4}){4}(?!\w)")
# 13-19 digits, single spaces or dashes between groups; not part of a longer digit run.
CARD = re.compile(r"(?<!\w)(?<!\d[ -])[2-6]\d(?:[ -]?\d){11,17}(?![ -]?\d)")
IIN_BIN = re.compile(r"(?<!\w)\d{12}(?!\w)")
# +7 and 8 (trunk prefix) numbers of Kazakhstan and Russia: 10 digits after the prefix,
# area code possibly in brackets, groups split by spaces or dashes.
PHONE_KZ_RU = re.compile(r"(?<![\w+])(?:\+\s?7|8)(?:[\s\-()]{0,2}\d){10}(?![ -]?\d)")
# Other countries: + country code and 7-14 more digits in groups.
PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])\+(?!\s?7)[1-9]\d{0,2}(?:[\s\-.()]{0,2}\d){7,14}(?![ -]?\d)")


def digits_of(text: str) -> str:
    return re.sub(r"\D", "", text)


def kz_id_checksum_ok(number: str) -> bool:
    """The official IIN/BIN check digit: weights 1..11, and if the remainder is 10,
    weights 3..11,1,2; a second remainder of 10 makes the number invalid."""
    digits = [int(d) for d in number]
    remainder = sum(d * w for d, w in zip(digits, range(1, 12))) % 11
    if remainder == 10:
        remainder = sum(d * w for d, w in zip(digits, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2))) % 11
        if remainder == 10:
            return False
    return remainder == digits[11]


def iin_birth_date(number: str) -> datetime.date | None:
    """The date of birth an IIN encodes: YYMMDD, the 7th digit giving century (and sex)."""
    century = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}.get(number[6])
    if century is None:
        return None
    try:
        return datetime.date(century + int(number[:2]), int(number[2:4]), int(number[4:6]))
    except ValueError:
        return None


def is_bin(number: str) -> bool:
    """A BIN: YYMM of registration, then 4/5/6 for resident/non-resident legal entity/branch."""
    return 1 <= int(number[2:4]) <= 12 and number[4] in "456"


def is_iin_or_bin(number: str) -> bool:
    return kz_id_checksum_ok(number) and (iin_birth_date(number) is not None or is_bin(number))


def iban_ok(iban: str) -> bool:
    """ISO 7064 mod 97-10: country and check digits moved to the end, letters as 10..35."""
    compact = iban.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def luhn_ok(number: str) -> bool:
    total = 0
    for i, digit in enumerate(int(d) for d in reversed(number)):
        if i % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _phone_ok(match: str) -> bool:
    return 8 <= len(digits_of(match)) <= 15


FINDERS = {
    "email": [(EMAIL, lambda m: True)],
    "iban": [(IBAN_KZ, iban_ok)],
    "card": [(CARD, lambda m: luhn_ok(digits_of(m)))],
    "iin": [(IIN_BIN, is_iin_or_bin)],
    "phone": [(PHONE_KZ_RU, _phone_ok), (PHONE_INTERNATIONAL, _phone_ok)],
}


def find_pii(text: str, types=TYPES) -> list[tuple[str, int, int]]:
    """Non-overlapping (type, start, end) spans in text order."""
    taken = bytearray(len(text))
    spans = []
    for kind in types:
        for pattern, valid in FINDERS[kind]:
            for match in pattern.finditer(text):
                start, end = match.span()
                if not any(taken[start:end]) and valid(match.group()):
                    taken[start:end] = b"\x01" * (end - start)
                    spans.append((kind, start, end))
    return sorted(spans, key=lambda span: span[1])


def redact(text: str, spans: list[tuple[str, int, int]]) -> str:
    pieces, last = [], 0
    for kind, start, end in spans:
        pieces += [text[last:start], PLACEHOLDERS[kind]]
        last = end
    return "".join(pieces) + text[last:]


class PiiRedactor(DocumentOperator):
    """mode "redact" replaces each finding with a placeholder (<EMAIL>, <PHONE>, <IIN>, <IBAN>,
    <CARD>; BINs count as IIN); mode "tag" leaves the text and lists the findings in
    `pii_spans` as JSON [[type, start, end], ...]. Both count findings per type."""

    signals = {**{f"pii_{kind}": pa.int32() for kind in TYPES}, "pii_spans": pa.string()}
    MODES = ("redact", "tag")

    def __init__(self, mode: str = "redact", types=TYPES):
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, not {mode!r}")
        unknown = set(types) - set(TYPES)
        if unknown:
            raise ValueError(f"unknown PII types {sorted(unknown)}; known: {TYPES}")
        self.mode = mode
        self.types = [kind for kind in TYPES if kind in set(types)]

    def process(self, doc: dict) -> dict:
        spans = find_pii(doc["text"], self.types)
        for kind in TYPES:
            doc[f"pii_{kind}"] = sum(span[0] == kind for span in spans)
        if self.mode == "redact":
            doc["text"] = redact(doc["text"], spans)
            doc["n_chars"] = len(doc["text"])
            doc["pii_spans"] = None
        else:
            doc["pii_spans"] = json.dumps(spans)
        return doc
