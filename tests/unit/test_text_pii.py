import json
import random

import pyarrow as pa
import pytest

from operators.text.pii import (
    PiiRedactor,
    find_pii,
    iban_ok,
    iin_birth_date,
    is_iin_or_bin,
    kz_id_checksum_ok,
    luhn_ok,
)

# Check digits worked out by hand with the official weights:
# 90010130012: 9·1+1·4+1·6+3·7+1·10+2·11 = 72, 72 mod 11 = 6              → IIN 900101300126
# 85123140001: 8+10+3+8+15+6+28+11 = 89, 89 mod 11 = 1                     → IIN 851231400011
# 85123149241: first pass 219 mod 11 = 10; weights 3..11,1,2: 244 mod 11 = 2 → IIN 851231492412
# 05014000123: 10+4+20+9+20+33 = 96, 96 mod 11 = 8 (5th digit 4: legal entity) → BIN 050140001238
VALID_IINS = ["900101300126", "851231400011", "851231492412"]
VALID_BIN = "050140001238"
# Both passes leave remainder 10: no check digit makes 90010137093x valid.
DOUBLE_TEN = "90010137093"
IBAN = "KZ86125KZT5004100100"  # the published sample KZ IBAN
VISA = "4111111111111111"
MASTERCARD = "5500005555555559"


def doc(text, **columns):
    return {"doc_id": "d1", "source": "news", "text": text, "lang": "kk", "n_chars": len(text),
            "reason": None, "detail": None, **columns}


def found(text, types=None):
    return [(kind, text[start:end]) for kind, start, end in (find_pii(text, types) if types else find_pii(text))]


# --- validators -----------------------------------------------------------------------

@pytest.mark.parametrize("number", [*VALID_IINS, VALID_BIN])
def test_hand_checked_iin_and_bin_are_valid(number):
    assert kz_id_checksum_ok(number)
    assert is_iin_or_bin(number)


def test_iin_encodes_a_birth_date():
    assert iin_birth_date("900101300126").isoformat() == "1990-01-01"
    assert iin_birth_date("851231400011").isoformat() == "1985-12-31"
    assert iin_birth_date(VALID_BIN) is None  # 7th digit 0: not a person


def test_a_wrong_check_digit_or_a_double_ten_remainder_is_invalid():
    assert not kz_id_checksum_ok("900101300125")
    assert not any(kz_id_checksum_ok(DOUBLE_TEN + str(d)) for d in range(10))


def with_check_digit(first_eleven):
    return next((first_eleven + str(d) for d in range(10) if kz_id_checksum_ok(first_eleven + str(d))), None)


@pytest.mark.parametrize("first_eleven, why", [
    ("90133130012", "month 13 and 5th digit 3: neither a birth date nor a BIN"),
    ("90023130012", "30 February"),
    ("90010170012", "century digit 7"),
])
def test_checksum_alone_is_not_enough(first_eleven, why):
    number = with_check_digit(first_eleven)
    assert number is not None and kz_id_checksum_ok(number)
    assert not is_iin_or_bin(number), why


def test_iban_mod_97():
    assert iban_ok(IBAN) and iban_ok("KZ86 125K ZT50 0410 0100")
    assert not iban_ok("KZ87125KZT5004100100")
    assert not iban_ok("KZ86125KZT5004100101")


def test_luhn():
    assert luhn_ok(VISA) and luhn_ok(MASTERCARD) and luhn_ok("4400430180300003")
    assert not luhn_ok("4111111111111112")


# --- finding --------------------------------------------------------------------------

@pytest.mark.parametrize("phone", [
    "+7 701 123 45 67", "+7 (701) 123-45-67", "+77011234567", "8 (727) 250-12-34", "8 (7172) 55-66-77",
    "87011234567", "8-705-111-22-33", "8 701 123 4567", "+7 495 123-45-67", "+44 20 7946 0958",
    "+1 (212) 555-0199", "+998 71 123 45 67",
])
def test_phones_in_every_format(phone):
    assert found(f"Байланыс телефоны: {phone}, хабарласыңыз.") == [("phone", phone)]


@pytest.mark.parametrize("text", [
    "2024-2029 жылдарға арналған", "ORCID 0000-0003-0025-8880", "ISBN 978-601-7919-13-5",
    "сомасы 8 000 000 теңге", "тел. 123-45-67", "8 70112345678 (12 цифр)", "+7 701 123 45",
    "Артикул 4111111111111112", "DOI 10.1109/ACCESS.2025.3512345", "mnk@", "@astana_hub",
])
def test_numbers_that_are_not_pii_are_left_alone(text):
    assert found(text) == []


def test_emails():
    text = "E-mail:mnk@ipic.kz; madina.mansurova@kaznu.edu.kz ; info@мектеп.қаз."
    assert found(text) == [("email", "mnk@ipic.kz"), ("email", "madina.mansurova@kaznu.edu.kz"),
                           ("email", "info@мектеп.қаз")]


def test_iin_bin_iban_and_cards_are_found_only_when_valid():
    text = (f"ИИН {VALID_IINS[0]}, БИН {VALID_BIN}, қате ИИН 900101300125. "
            f"Шот: KZ86 125K ZT50 0410 0100, қате шот KZ87125KZT5004100100. "
            f"Карта 4111 1111 1111 1111, 5500-0055-5555-5559, қате карта 4111 1111 1111 1112.")
    assert found(text) == [("iin", VALID_IINS[0]), ("iin", VALID_BIN), ("iban", "KZ86 125K ZT50 0410 0100"),
                           ("card", "4111 1111 1111 1111"), ("card", "5500-0055-5555-5559")]


def test_random_twelve_digit_numbers_are_untouched_unless_they_validate():
    rng = random.Random(2024)
    numbers = ["".join(rng.choice("0123456789") for _ in range(12)) for _ in range(500)]
    redactor = PiiRedactor()
    for number in numbers:
        result = redactor.process(doc(f"Тапсырыс нөмірі {number} болды."))
        expected_hit = is_iin_or_bin(number)
        assert (number not in result["text"]) == expected_hit
        assert result["pii_iin"] == int(expected_hit)
    assert sum(map(is_iin_or_bin, numbers)) < 10  # the checksum lets ~1 in 11 through, the date far fewer


def test_overlaps_go_to_the_more_specific_type():
    text = f"Шот KZ86125KZT5004100100 және ИИН {VALID_IINS[1]}"
    assert [kind for kind, _ in found(text)] == ["iban", "iin"]


# --- the operator ---------------------------------------------------------------------

TEXT = (f"Менеджер: +7 701 123 45 67, mnk@ipic.kz. ИИН {VALID_IINS[0]}, шот {IBAN}, "
        f"карта {VISA}. Тапсырыс 123456789012.")


def test_redact_mode_replaces_with_placeholders_and_counts():
    result = PiiRedactor().process(doc(TEXT))
    assert result["text"] == "Менеджер: <PHONE>, <EMAIL>. ИИН <IIN>, шот <IBAN>, карта <CARD>. Тапсырыс 123456789012."
    assert result["n_chars"] == len(result["text"])
    assert [result[f"pii_{k}"] for k in ("email", "phone", "iin", "iban", "card")] == [1, 1, 1, 1, 1]
    assert result["pii_spans"] is None


def test_tag_mode_keeps_the_text_and_lists_spans():
    result = PiiRedactor(mode="tag").process(doc(TEXT))
    assert result["text"] == TEXT
    spans = json.loads(result["pii_spans"])
    assert [(kind, TEXT[start:end]) for kind, start, end in spans] == [
        ("phone", "+7 701 123 45 67"), ("email", "mnk@ipic.kz"), ("iin", VALID_IINS[0]), ("iban", IBAN),
        ("card", VISA)]


def test_types_can_be_chosen_and_are_checked():
    result = PiiRedactor(types=["email"]).process(doc(TEXT))
    assert "<EMAIL>" in result["text"] and VALID_IINS[0] in result["text"]
    assert result["pii_iin"] == 0
    with pytest.raises(ValueError):
        PiiRedactor(types=["passport"])
    with pytest.raises(ValueError):
        PiiRedactor(mode="mask")


def test_table_call_passes_rejected_rows_untouched():
    rows = [doc(TEXT), {**doc(TEXT), "doc_id": "d2", "reason": "GopherQuality", "detail": "words=20 < 50"}]
    out = PiiRedactor()(pa.Table.from_pylist(rows))
    redacted, rejected = out.to_pylist()
    assert "<IIN>" in redacted["text"]
    assert rejected["text"] == TEXT and rejected["pii_iin"] is None
    for name, type_ in PiiRedactor.signals.items():
        assert out.schema.field(name).type == type_
    assert out.schema.field("pii_iin").type == pa.int32()
