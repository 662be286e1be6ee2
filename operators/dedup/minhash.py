"""MinHash signatures and LSH band keys for near-duplicate detection, vectorized.

Signatures are bit-identical to `datasketch.MinHash(num_perm, seed)` (datasketch >= 2.0,
default scheme "affine32") fed `shingle.encode("utf8")` for every shingle, so a flow can
check or mix them with datasketch. Per document, the only Python-level work is slicing
shingles and SHA-1 hashing each once; all permutations of all its shingles are one numpy
expression. SHA-1 then takes most of the time, but it is what datasketch hashes with.

Default shingles are character 5-grams, not datatrove's word 5-grams. Measured on 300-word
windows of the project's seed document 000 (Kazakh + English), true Jaccard of a document with its
edited copy, and of unrelated windows on the same topic:

    shingles   10% words replaced   OCR noise, 2% chars   unrelated (max)
    word 5            0.41                0.33                 0.007
    char 5            0.75                0.86                 0.175

One OCR error or one changed word destroys all five word 5-grams that contain it, and
Kazakh's long agglutinative words make single-letter OCR errors (қ→к, і→i) common, so word
5-grams lose most near-duplicates of scanned books before LSH even runs. Character
5-grams keep them while unrelated documents stay far below any useful threshold.

Pair them with a Jaccard threshold of 0.6: character-5 Jaccard is ~0.75-0.8 with 10% of
words replaced, ~0.6 with 20%, 0.1-0.2 between unrelated texts of one language, and
`lsh_params(0.6, 128)` = 18 bands x 7 rows makes >90% of 10%-edited copies candidates and
almost no unrelated pairs (measured in tests/unit/test_dedup_minhash.py).
"""
from __future__ import annotations

import hashlib
from operator import methodcaller

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

UNITS = ("char", "word")
_MAX32 = np.uint32(0xFFFFFFFF)
# Permute at most this many shingles × permutations at once (4 MB of uint32): a
# two-million-character book then needs no more memory than a tweet, and the block stays
# in cache (one 32 MB block for a whole batch measured 5x slower than this).
_CHUNK_CELLS = 1 << 20
_digest = methodcaller("digest")
REJECTION = "NearDedup"  # the curation stage a signing failure is counted under in the report


def normalize(texts: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """NFKC, lowercase, drop everything but letters/digits/space, collapse space.

    Punctuation is deleted rather than spaced so that OCR specks and apostrophes inside a
    word ("қаза.қ", Latin-script "o'zbek") do not split it; combining marks go too, which
    drops Russian stress accents. `\\pL` covers ә ғ қ ң ө ұ ү һ і; `\\pZ` catches no-break
    and other Unicode spaces that RE2's `\\s` does not.
    """
    texts = pc.utf8_lower(pc.utf8_normalize(texts, "NFKC"))
    texts = pc.replace_substring_regex(texts, r"[^\pL\pN\s\pZ]+", "")
    texts = pc.replace_substring_regex(texts, r"[\s\pZ]+", " ")
    return pc.utf8_trim(texts, " ")


def _shingle_set(normalized: str, k: int, unit: str) -> set[str]:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    if not normalized:
        return set()
    # A text shorter than k units is one shingle, so short documents still match.
    if unit == "char":
        return {normalized[i : i + k] for i in range(max(len(normalized) - k + 1, 1))}
    words = normalized.split(" ")
    return {" ".join(words[i : i + k]) for i in range(max(len(words) - k + 1, 1))}


def shingles(text: str, k: int = 5, unit: str = "char") -> set[str]:
    """The set of k-shingles (`unit` "char" or "word") of `text` after `normalize`."""
    return _shingle_set(normalize(pa.array([text], pa.string()))[0].as_py(), k, unit)


def sha1_hash32(items: set[str]) -> np.ndarray:
    """datasketch's `sha1_hash32` of each item's UTF-8: first 4 digest bytes, little-endian."""
    digests = b"".join(map(_digest, map(hashlib.sha1, map(str.encode, items))))
    return np.frombuffer(digests, dtype="<u4")[::5].astype(np.uint32)  # a SHA-1 digest is 5 words


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's finalizer; datasketch pre-mixes every input hash with it."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


class MinHashSignature:
    """Adds `minhash`, a `fixed_size_list<uint32>[num_perm]`, computed from `text`.

    Null for rejected rows (`reason` set) and for texts with no shingles. A fixed-size
    list needs no offsets: `band_keys` reads a batch as one (rows, num_perm) numpy matrix.
    """

    name = "MinHashSignature"

    def __init__(self, num_perm: int = 128, seed: int = 1, shingle_size: int = 5, unit: str = "char"):
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
        self.num_perm, self.seed, self.shingle_size, self.unit = num_perm, seed, shingle_size, unit
        # datasketch's affine32 permutations h -> a*h + b mod 2^32, drawn in its order;
        # odd `a` makes each one a bijection, so permuting adds no collisions.
        gen = np.random.RandomState(seed)
        self.a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self.b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
        self.column_type = pa.list_(pa.uint32(), num_perm)

    def _sign(self, text: str, out: np.ndarray) -> bool:
        """Writes the signature of one normalized text into `out`; False when it has no shingle."""
        hashes = _fmix32(sha1_hash32(_shingle_set(text, self.shingle_size, self.unit)))
        step = max(_CHUNK_CELLS // self.num_perm, 1)
        for lo in range(0, len(hashes), step):
            permuted = hashes[lo : lo + step, None] * self.a  # uint32 wraps: that is the mod 2^32
            permuted += self.b
            np.minimum(out, permuted.min(axis=0), out=out)
        return len(hashes) > 0

    def signatures(self, texts: list[str | None]) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
        """(len(texts), num_perm) uint32 signatures of normalized texts, which have any
        shingle, and per text the failure that kept it unsigned ("TypeError: ..."), else None."""
        out = np.full((len(texts), self.num_perm), _MAX32, dtype=np.uint32)
        valid = np.zeros(len(texts), dtype=bool)
        errors: list[str | None] = [None] * len(texts)
        for i, text in enumerate(texts):
            try:
                valid[i] = self._sign(text or "", out[i])
            except Exception as exc:  # one document's surprise costs that document only
                out[i] = _MAX32
                errors[i] = f"{type(exc).__name__}: {exc}"
        return out, valid, errors

    def __call__(self, table: pa.Table) -> pa.Table:
        """`table` with `minhash` added. A document that cannot be signed is rejected
        (reason "NearDedup", detail naming this operator and the exception) when the
        table carries `reason`/`detail`, as curation batches do."""
        texts = normalize(table["text"])
        if "reason" in table.column_names:  # rejected rows pass through unsigned
            texts = pc.if_else(pc.is_null(table["reason"]), texts, pa.scalar(None, texts.type))
        sigs, valid, errors = self.signatures(texts.to_pylist())
        column = pa.FixedSizeListArray.from_arrays(pa.array(sigs.ravel()), type=self.column_type,
                                                   mask=pa.array(~valid))
        if "minhash" in table.column_names:  # recomputing on a rerun replaces, never duplicates
            table = table.set_column(table.column_names.index("minhash"), "minhash", column)
        else:
            table = table.append_column("minhash", column)
        if any(errors) and "reason" in table.column_names:
            failed = pa.array([e is not None for e in errors])
            details = pa.array([f"{self.name} failed: {e}" if e else None for e in errors], pa.string())
            for name, new in (("reason", pa.scalar(REJECTION, pa.string())), ("detail", details)):
                old = table[name].cast(pa.string()) if name in table.column_names else pa.nulls(len(table), pa.string())
                column = pc.if_else(failed, new, old)
                if name in table.column_names:
                    table = table.set_column(table.column_names.index(name), name, column)
                else:
                    table = table.append_column(name, column)
        return table


def lsh_params(threshold: float, num_perm: int, false_positive_weight: float = 0.5,
               false_negative_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows), bands*rows <= num_perm, minimizing weighted FP + FN probability mass.

    Same objective and tie order as datasketch's MinHashLSH; the integrals of the LSH
    S-curve are done for all (b, r) at once by Gauss-Legendre quadrature instead of scipy.
    """
    b, r = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)], dtype=float).T
    nodes, weights = np.polynomial.legendre.leggauss(200)

    def integral(lo: float, hi: float, candidate: bool) -> np.ndarray:
        s = (hi - lo) / 2 * nodes + (hi + lo) / 2
        p = 1 - (1 - s[:, None] ** r) ** b  # probability that a pair at similarity s is a candidate
        return (hi - lo) / 2 * weights @ (p if candidate else 1 - p)

    error = (false_positive_weight * integral(0.0, threshold, True)
             + false_negative_weight * integral(threshold, 1.0, False))
    best = int(np.argmin(error))  # first minimum, like datasketch's strict `<` scan
    return int(b[best]), int(r[best])


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def band_keys(table: pa.Table, bands: int, rows: int) -> pa.Table:
    """One `(doc_id, band_key)` row per band of every non-null `minhash`.

    `band_key` is a 64-bit hash of (band index, the band's `rows` values): documents share
    a key exactly when they agree on a whole band (up to a ~2^-64 collision, which only
    adds a candidate pair). It is a plain int64 so a distributed shuffle groups it cheaply,
    and it is the same in every process, unlike Python's salted `hash()`.
    """
    table = table.filter(pc.is_valid(table["minhash"]))
    column = table["minhash"].combine_chunks()
    num_perm = column.type.list_size
    if bands * rows > num_perm:
        raise ValueError(f"{bands} bands x {rows} rows needs {bands * rows} > {num_perm} hashes")
    sigs = column.flatten().to_numpy().reshape(-1, num_perm)[:, : bands * rows].reshape(-1, bands, rows)
    # Chained bijections: for a fixed prefix, different values always give different keys.
    key = _fmix64(np.arange(1, bands + 1, dtype=np.uint64))[None, :]
    for j in range(rows):
        key = _fmix64(key ^ (sigs[:, :, j].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)))
    return pa.table({
        "doc_id": pc.take(table["doc_id"], pa.array(np.repeat(np.arange(len(table)), bands))),
        "band_key": pa.array(key.view(np.int64).ravel()),
    })


def jaccard(sig_a, sig_b) -> float:
    """Estimated Jaccard similarity: the share of permutations whose minima agree."""
    return float(np.mean(np.asarray(sig_a) == np.asarray(sig_b)))


def true_jaccard(text_a: str, text_b: str, k: int = 5, unit: str = "char") -> float:
    """Exact Jaccard similarity of the two texts' shingle sets (0.0 when both are empty)."""
    a, b = shingles(text_a, k, unit), shingles(text_b, k, unit)
    return len(a & b) / len(a | b) if a or b else 0.0
