#!/usr/bin/env python
"""E-books and office documents: qazflow's readers (TextReader: EPUB, FB2, DOCX, ODT, RTF)
against pandoc reading the same files to plain text (pypandoc-binary, the dev extra), one
file at a time in both: documents per second and how far the texts agree (F1 of the word
multisets, pandoc's text the reference; a file pandoc cannot read is not scored). Books
are written by pandoc from real kk/ru/en paragraphs (samples/text), in every format;
`--dir` adds files of your own (the foreign DOCX/ODT of python-docx's and odfpy's test
suites, say).

    .venv/bin/python tests/benchmarks/ebooks_read.py [--books 20] [--paragraphs 40] [--dir DIR] [--quick]
"""
from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

NAME = "ebooks_read"
FORMATS = ("epub", "fb2", "docx", "odt", "rtf")


def f1(reference: str, text: str) -> float:
    """F1 of the two texts' words (runs of letters and digits: pandoc's plain text draws
    tables with dashes and numbers list items, which are no words of the document)."""
    ref, got = Counter(re.findall(r"\w+", reference)), Counter(re.findall(r"\w+", text))
    common = sum((ref & got).values())
    if not ref and not got:
        return 1.0
    return 2 * common / (sum(ref.values()) + sum(got.values()))


def pandoc_text(path: Path) -> str:
    import pypandoc

    return pypandoc.convert_file(str(path), "plain", extra_args=["--wrap=none"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--books", type=int, default=20, help="books per format")
    ap.add_argument("--paragraphs", type=int, default=40, help="paragraphs per book")
    ap.add_argument("--dir", type=Path, help="more files to read (any of the formats)")
    ap.add_argument("--quick", action="store_true", help="3 books of 10 paragraphs per format")
    args = ap.parse_args()
    if args.quick:
        args.books, args.paragraphs = 3, 10

    from operators.text.readers import TextReader
    from tests.ebook_files import ebook

    pool = [p for lang in ("kk", "ru", "en") for p in C.paragraphs(prose_only=True)[lang]]
    reader = TextReader()
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for kind in FORMATS:
            for i in range(args.books):
                start = (i * args.paragraphs) % max(1, len(pool) - args.paragraphs)
                body = "\n\n".join(pool[start:start + args.paragraphs])
                path = Path(tmp) / f"book{i:03d}.{kind}"
                path.write_bytes(ebook(kind, f"---\ntitle: Кітап {i}\n---\n\n# Тарау\n\n{body}\n"))
                files.append(path)
        if args.dir:
            files += sorted(p for p in args.dir.rglob("*") if p.suffix.lower().lstrip(".") in FORMATS)
        rows = {}
        for path in files:
            data = path.read_bytes()
            started = time.perf_counter()
            [doc] = reader(str(path), io.BytesIO(data))
            ours_s = time.perf_counter() - started
            started = time.perf_counter()
            try:
                reference = pandoc_text(path)
            except RuntimeError:  # pandoc cannot read it either
                reference = None
            pandoc_s = time.perf_counter() - started
            group = ("ours: " if str(path).startswith(tmp) else "dir: ") + path.suffix.lstrip(".")
            row = rows.setdefault(group, {"files": 0, "ours_s": 0.0, "pandoc_s": 0.0, "f1": [], "errors": 0})
            row["files"] += 1
            row["ours_s"] += ours_s
            row["pandoc_s"] += pandoc_s
            row["errors"] += doc["reason"] is not None
            if reference is not None and (doc["reason"] is None or not reference.strip()):
                row["f1"].append(f1(reference, doc["text"]))
    table = []
    for group, row in sorted(rows.items()):
        row["f1_mean"] = sum(row["f1"]) / len(row["f1"]) if row["f1"] else None
        row["f1_min"] = min(row["f1"]) if row["f1"] else None
        row["speedup"] = row["pandoc_s"] / row["ours_s"] if row["ours_s"] else None
        table.append([group, row["files"], row["errors"], f"{row['files'] / row['ours_s']:.0f}",
                      f"{row['files'] / row['pandoc_s']:.1f}", f"{row['speedup']:.0f}×",
                      f"{row['f1_mean']:.3f}" if row["f1_mean"] is not None else "-",
                      f"{row['f1_min']:.3f}" if row["f1_min"] is not None else "-"])
        del row["f1"]
    print(C.md_table(["files", "n", "error rows", "qazflow files/s", "pandoc files/s", "ratio",
                      "word F1 vs pandoc (mean)", "(min)"], table))
    C.write_results(NAME, {"books_per_format": args.books, "paragraphs": args.paragraphs,
                           "dir": str(args.dir) if args.dir else None, "by_format": rows})


if __name__ == "__main__":
    main()
