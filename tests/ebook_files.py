"""E-books and office documents for tests, written by pandoc (the pypandoc-binary wheel
bundles it), a writer nobody here wrote, from Markdown: EPUB, DOCX, ODT, FB2 (and RTF)."""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pypandoc

# A Kazakh book of two chapters: every Kazakh letter, bold and italic inside words, a quote,
# a list, a table. Each chapter is its own XHTML file in the EPUB (pandoc splits at level 1).
TITLE = "Абай жолы"
CHAPTER_1 = ["Бірінші тарау",
             "Ұзақ жолдан кейін Құнанбай ауылына қайтты. Қалың елдің ішінде әңгіме көп болды.",
             "Өзен жағасында үйлер тұрды, күз келіп қалған еді. Һәр адам өз ісімен шұғылданды.",
             "Адам болам десеңіз — тілегің, өмірің алдыңда.",
             "бірінші жол", "екінші жол"]
CHAPTER_2 = ["Екінші тарау", "Түнде жаңбыр жауды, ертеңіне ғана ашылды."]
MARKDOWN = f"""---
title: {TITLE}
lang: kk
---

# {CHAPTER_1[0]}

Ұзақ жолдан кейін Құнанбай ауылына қайтты. Қалың елдің ішінде **әң**гіме көп болды.

Өзен жағасында үйлер тұрды, _күз_ келіп қалған еді. Һәр адам өз ісімен шұғылданды.

> {CHAPTER_1[3]}

- {CHAPTER_1[4]}
- {CHAPTER_1[5]}

# {CHAPTER_2[0]}

{CHAPTER_2[1]}
"""
FORMATS = ("epub", "docx", "odt", "fb2")


def ebook(kind: str, markdown: str = MARKDOWN) -> bytes:
    """The Markdown as an e-book or document of `kind` (epub, docx, odt, fb2, rtf), as pandoc writes it."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"book.{kind}"
        pypandoc.convert_text(markdown, kind, format="markdown", outputfile=str(target), extra_args=["--standalone"])
        return target.read_bytes()


def replace_member(archive: bytes, members: dict[str, bytes | None]) -> bytes:
    """The zip with these members replaced, added, or (None) removed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename not in members:
                target.writestr(info, source.read(info))
        for name, data in members.items():
            if data is not None:
                target.writestr(name, data)
    return out.getvalue()
