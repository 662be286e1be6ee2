"""RTF → plain text: the format Word and court and government sites export documents in.

One walk over the control words (RTF 1.9.1), keeping what a reader sees: paragraphs and
line breaks as newlines, cells and tabs as tabs, `\\uN` characters (how Word writes
Kazakh's letters) with their `\\ucN` fallbacks dropped, `\\'hh` bytes decoded in the
document's code page (`\\ansicpg1251`, or a font's `\\fcharset204`, Cyrillic). Groups that
are not body text are skipped whole: font, colour and style tables, document info,
pictures, objects, headers and footers, footnotes, field instructions (a field's shown
result is kept), and every `{\\*\\...}` destination a reader may ignore.

A file is bounded by the caller (max_file_bytes), and nesting by MAX_DEPTH: a hostile
file of a million `{` costs one error, not the stack.
"""
from __future__ import annotations

import re

MAX_DEPTH = 512
# Destinations whose content is not the document's text.
SKIPPED = frozenset({
    "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "objdata", "header", "headerl", "headerr",
    "headerf", "footer", "footerl", "footerr", "footerf", "footnote", "annotation", "fldinst", "themedata",
    "colorschememapping", "datastore", "latentstyles", "listtable", "listoverridetable", "rsidtbl", "generator",
    "xmlnstbl", "filetbl", "revtbl", "pgdsctbl", "bkmkstart", "bkmkend", "atnid", "atnauthor", "shppict",
    "nonshppict", "blipuid", "mmathPr", "wgrffmtfilter", "panose", "falt", "template", "docvar",
})
BREAKS = {"par": "\n", "line": "\n", "sect": "\n", "page": "\n", "row": "\n", "tab": "\t", "cell": "\t",
          "emdash": "\u2014", "endash": "\u2013", "bullet": "\u2022", "lquote": "\u2018", "rquote": "\u2019",
          "ldblquote": "\u201c", "rdblquote": "\u201d", "emspace": "\u2003", "enspace": "\u2002"}
SYMBOLS = {"~": "\u00a0", "_": "\u2011", "-": "", "{": "{", "}": "}", "\\": "\\", "\n": "\n", "\r": "\n"}
# \fcharset values (Windows character sets) → the code page of that font's \'hh bytes.
CHARSETS = {0: "cp1252", 204: "cp1251", 238: "cp1250", 161: "cp1253", 162: "cp1254", 186: "cp1257", 177: "cp1255",
            178: "cp1256", 222: "cp874"}
_TOKEN = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|[\r\n]+|[^\\{}\r\n]+",
                    re.DOTALL)
_FONT = re.compile(rb"\\f(\d+)[^;{}]*?\\fcharset(\d+)")
_SPACES = re.compile(r"[ \u00a0]+\n|\n{3,}")


class RtfError(ValueError):
    pass


def rtf_text(data: bytes) -> str:
    """The visible text of an RTF document; RtfError when it is not one."""
    if not data.lstrip().startswith(b"{\\rtf"):
        raise RtfError("not RTF: it does not begin with {\\rtf")
    default_page = _code_page(data)
    fonts = {int(n): CHARSETS.get(int(c)) for n, c in _FONT.findall(data[:1 << 20])}
    out: list[str] = []
    pending = bytearray()  # \'hh bytes, decoded together (a code page may need two for one character)
    state = {"skip": False, "uc": 1, "page": default_page}
    stack: list[dict] = []
    fallback = 0  # \uN's fallback characters still to drop
    group_start = False  # just after "{": a "\*" or a destination word there names the group

    def flush() -> None:
        if pending:
            out.append(pending.decode(state["page"], errors="replace"))
            pending.clear()

    for match in _TOKEN.finditer(data):
        word, number, hexbyte, symbol, brace = match.groups()
        starting, group_start = group_start, False
        if brace == b"{":
            flush()
            if len(stack) >= MAX_DEPTH:
                raise RtfError(f"groups nested deeper than {MAX_DEPTH}")
            stack.append(dict(state))
            group_start = True
            continue
        if brace == b"}":
            flush()
            if stack:
                state = stack.pop()
            fallback = 0
            continue
        if state["skip"]:
            continue
        if word is not None:
            name = word.decode("ascii")
            if starting and name in SKIPPED:
                flush()
                state["skip"] = True
            elif name == "uc" and number is not None:
                state["uc"] = max(0, int(number))
            elif name == "u" and number is not None:
                flush()
                out.append(chr(int(number) % 0x10000) if int(number) % 0x10000 < 0xD800 or int(number) % 0x10000 >= 0xE000
                           else "\ufffd")
                fallback = state["uc"]
            elif name == "f" and number is not None:
                flush()
                state["page"] = fonts.get(int(number)) or default_page
            elif name in BREAKS:
                flush()
                out.append(BREAKS[name])
            elif name == "bin" and number is not None:  # raw binary data follows: never text
                raise RtfError("embedded \\bin data outside a picture or object; not read")
            continue
        if symbol is not None:
            if symbol == b"*" and starting:
                flush()
                state["skip"] = True
            elif symbol.decode("latin-1") in SYMBOLS:
                flush()
                out.append(SYMBOLS[symbol.decode("latin-1")])
            continue
        if hexbyte is not None:
            if fallback:
                fallback -= 1
            else:
                pending.append(int(hexbyte, 16))
            continue
        text = match.group()
        if text[:1] in (b"\r", b"\n"):
            continue  # line ends in RTF source are not text
        if fallback:
            skip = min(fallback, len(text))
            text, fallback = text[skip:], fallback - skip
        if text:
            flush()
            out.append(text.decode(state["page"], errors="replace"))
    flush()
    lines = (line.strip() for line in "".join(out).split("\n"))
    return "\n".join(line for line in lines if line)


def _code_page(data: bytes) -> str:
    match = re.search(rb"\\ansicpg(\d{3,5})", data[:4096])
    if match:
        page = f"cp{int(match.group(1))}"
        try:
            "".encode(page)
            return page
        except LookupError:
            pass
    return "cp1252"
