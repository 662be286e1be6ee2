"""DjVu books for tests, made with djvulibre's own encoders (c44 for grayscale pages, djvm
to bundle them, djvused to give a page a hidden text layer), as scanning software does."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from PIL import Image


def djvu_book(pages: list[Image.Image], texts: list[str | None], dpi: int = 300) -> bytes:
    """A bundled DjVu document: one page per image, each with `texts[i]` as its hidden text
    layer (None: no text layer)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder, parts = Path(tmp), []
        for i, image in enumerate(pages):
            pgm, part = folder / f"p{i + 1}.pgm", folder / f"p{i + 1}.djvu"
            image.convert("L").save(pgm)
            subprocess.run(["c44", "-dpi", str(dpi), str(pgm), str(part)], check=True, capture_output=True)
            parts.append(str(part))
        book = folder / "book.djvu"
        subprocess.run(["djvm", "-c", str(book), *parts], check=True, capture_output=True)
        script = []
        for i, (image, text) in enumerate(zip(pages, texts)):
            if text is not None:
                layer = folder / f"t{i + 1}.txt"
                quoted = text.replace("\\", "\\\\").replace('"', '\\"')
                layer.write_text(f'(page 0 0 {image.width} {image.height} "{quoted}")', encoding="utf-8")
                script.append(f"select {i + 1}; set-txt {layer}")
        if script:
            subprocess.run(["djvused", str(book), "-e", "; ".join(script), "-s"], check=True, capture_output=True)
        return book.read_bytes()
