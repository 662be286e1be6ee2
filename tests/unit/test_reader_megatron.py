"""The Megatron export, read back by megatron-core's own IndexedDataset."""
import numpy as np
import pytest

from operators.tokens.megatron import export_megatron
from tests.unit._shards import write_shards


def test_megatron_core_reads_every_document_of_the_export(tmp_path):
    indexed = pytest.importorskip("megatron.core.datasets.indexed_dataset")
    shards = tmp_path / "shards"
    shards.mkdir()
    manifest, rows, _ = write_shards(shards)
    written = export_megatron(str(shards), str(tmp_path / "megatron"))
    eos = manifest.tokenizer["eos_id"]
    assert set(written) == {"book_kk", "news_en", "news_ru", "text_kk"}
    for key in manifest.partitions:
        source, lang = key.split("/")
        expected = {}
        for row in rows.to_pylist():
            if (row["source"], row["lang"]) == (source, lang):
                expected.setdefault(row["doc_id"], []).extend(row["input_ids"])
        ds = indexed.IndexedDataset(str(tmp_path / "megatron" / f"{source}_{lang}"))
        assert len(ds) == len(expected) == written[f"{source}_{lang}"]
        assert list(ds.document_indices) == list(range(len(expected) + 1))
        # the export keeps the shards' order: (doc_id, chunk) sorted within a partition
        for i, doc_id in enumerate(sorted(expected)):
            assert np.array_equal(ds[i], np.array(expected[doc_id] + [eos], dtype=ds[i].dtype)), doc_id


def test_export_command(tmp_path, capsys):
    from flows.cli import main

    shards = tmp_path / "shards"
    shards.mkdir()
    write_shards(shards, n_docs=40)
    assert main(["shards", "export-megatron", str(tmp_path), str(tmp_path / "m")]) == 0
    assert "text_kk.bin/.idx" in capsys.readouterr().out
    assert (tmp_path / "m" / "news_ru.idx").read_bytes().startswith(b"MMIDIDX\x00\x00")


def test_inspect_command_shows_totals_histogram_and_decoded_kazakh(tmp_path, capsys):
    from flows.cli import main

    shards = tmp_path / "shards"
    shards.mkdir()
    manifest, _, _ = write_shards(shards, n_docs=60)
    assert main(["shards", "inspect", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{manifest.totals['n_tokens']} tokens" in out and "text/kk" in out and "news/ru" in out
    kk_line = next(line for line in out.splitlines() if line.strip().startswith("text/kk"))
    assert any(c in kk_line for c in "әғқңөұүһі")  # the decoded sample is Kazakh text
    hist = [int(line.split()[-1]) for line in out.splitlines() if "–" in line]
    assert sum(hist) == manifest.totals["n_docs"]
