"""Repairs text decoded with the wrong code page.

Two kinds reach the corpus:
- UTF-8 bytes read as a single-byte page ("Ð¡Ð»Ð¾Ð²Ð¾", "РЎР»РѕРІРѕ" for "Слово"):
  ftfy undoes these and leaves correct text alone.
- Cyrillic single-byte bytes read as Latin-1/cp1252 ("ÒÎÎ" for "ТОО"): not UTF-8, so
  ftfy cannot see them. They are decoded here as KZ-1048 (the Kazakh national standard
  STRK 1048, which is cp1251 plus ә ғ қ ң ө ұ ү һ on positions Russian never uses), so
  Russian and Kazakh come back alike.
"""
from __future__ import annotations

import re

import ftfy


def _cyrillic_shown_as_latin() -> dict[str, str]:
    """What each Cyrillic letter byte looks like when read as cp1252 (Latin-1 where cp1252 has a gap)."""
    table = {}
    for value in range(0x80, 0x100):
        byte = bytes([value])
        try:
            shown = byte.decode("cp1252")
        except UnicodeDecodeError:
            shown = byte.decode("latin-1")
        meant = byte.decode("kz1048", errors="ignore")
        if meant.isalpha() and shown != meant:
            table[shown] = meant
    return table


SHOWN_AS_LATIN = _cyrillic_shown_as_latin()
SHOWN_RUN = re.compile("[" + "".join(re.escape(ch) for ch in SHOWN_AS_LATIN) + "]+")
LATIN1_LETTER = re.compile("[\u00c0-\u00ff]")
ASCII_LETTER = re.compile("[A-Za-z]")
TOKEN = re.compile(r"\S+")
# No word of a Latin-script language is three accented Latin-1 letters and no ASCII
# letter ("été" has a "t"), while most Cyrillic words read this way are. Short ones
# ("à", "üç") are decoded only on a line where such telltale words abound.
MIN_TELLTALE_RUN = 3


def _looks_misread(token: str) -> bool:
    return not ASCII_LETTER.search(token) and any(
        LATIN1_LETTER.search(run) for run in SHOWN_RUN.findall(token)
    )


def _repair_single_byte_line(line: str) -> str:
    """Decodes a line's misread words when they are at least half its words and one is telltale."""
    if not LATIN1_LETTER.search(line):
        return line  # a misread word has a Latin-1 letter
    tokens = [t for t in TOKEN.findall(line) if any(ch.isalpha() or ch in SHOWN_AS_LATIN for ch in t)]
    misread = [t for t in tokens if _looks_misread(t)]
    telltale = any(
        len(run) >= MIN_TELLTALE_RUN and LATIN1_LETTER.search(run)
        for t in misread
        for run in SHOWN_RUN.findall(t)
    )
    if not telltale or 2 * len(misread) < len(tokens):
        return line

    def decode(match: re.Match) -> str:
        token = match.group()
        if not _looks_misread(token):
            return token
        return SHOWN_RUN.sub(lambda run: "".join(SHOWN_AS_LATIN[ch] for ch in run.group()), token)

    return TOKEN.sub(decode, line)


def repair_mojibake(text: str) -> tuple[str, int]:
    """Returns the repaired text and the number of lines that needed a repair."""
    repaired_lines = []
    count = 0
    for line in text.split("\n"):
        fixed = _repair_single_byte_line(ftfy.fix_encoding(line)) if not line.isascii() else line
        count += fixed != line
        repaired_lines.append(fixed)
    return "\n".join(repaired_lines), count
