"""The trainers' reader: packed fixed-length sequences from `OUTPUT/shards`.

    from operators.tokens.reader import PackedReader
    reader = PackedReader("s3://corpus/run-1/shards", seq_len=2048, seed=0,
                          mixture="mix.yaml", rank=rank, world_size=world, cache_dir="/tmp/qz")
    for sample in reader: ...            # dicts of numpy arrays, no torch needed
    loader = DataLoader(reader.torch(), batch_size=None, num_workers=2)

How the stream is defined (everything is a pure function of manifest, mixture, seed
and epoch; nothing depends on the number of ranks or workers):

1. *Units*: the manifest's row groups. The mixture gives each partition a token budget
   for the epoch; a partition contributes whole passes over its row groups (each pass a
   fresh seeded permutation) and then a seeded prefix of one more pass, never more
   than its `max_epochs` cap. Partitions are interleaved smoothly: a unit's place is
   where its midpoint falls in its own partition's budget.
2. *Token stream*: the units' rows in file order, an eos after each document's last
   chunk. Row groups never cut a document and the manifest counts documents per row
   group, so every unit's offset in the stream is known without reading a byte.
3. *Samples*: sample i is stream tokens [i*(seq_len+1), (i+1)*(seq_len+1)).

Who gets which sample: the C consumers (ranks × DataLoader workers) take rounds of
`block_samples` consecutive samples each (consumer j the j-th block of the round),
which keeps every consumer's reads contiguous; the last, short round is split evenly.
A checkpoint records the frontier (the first round nobody has started) and, per
consumer, the samples it was given before the frontier but has not consumed. Resuming
on the same layout restores each consumer's own remainder (so the stream is exactly
the uninterrupted one); on a different layout the remainders are merged and split
evenly over the new consumers, then rounds continue from the frontier: every
remaining sample is seen exactly once.

A checkpoint assumes synchronous data parallelism: every rank has taken the same
number of items (`steps`) from its loader when `state_dict(steps)` is called.
"""
from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from operators.s3 import s3_filesystem
from operators.tokens.mixture import Mixture
from operators.tokens.shards import file_sha256
from schemas import ShardManifest

STATE_VERSION = 1


class ShardError(RuntimeError):
    """A shard is missing, truncated, corrupt or disagrees with the manifest."""


# --------------------------------------------------------------------------- files


def filesystem_for(uri: str, filesystem: pafs.FileSystem | None = None) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path) for a local path or s3:// URI; S3 settings from the standard
    AWS variables (AWS_ENDPOINT_URL for an on-prem store) unless a filesystem is given."""
    if not uri.startswith("s3://"):
        return filesystem or pafs.LocalFileSystem(), os.path.abspath(uri)
    filesystem = filesystem or s3_filesystem()
    return filesystem, uri.removeprefix("s3://").rstrip("/")


class ShardStore:
    """Opens shards: checks size and sha256 on first open, fails naming the file.

    Remote (s3://) shards are downloaded whole into `cache_dir` (named by sha256, so a
    cache can be shared by runs over several outputs) and the least recently used are
    deleted to stay under `cache_limit_bytes`; the shard being read is never evicted.
    """

    def __init__(self, root: str, manifest: ShardManifest, cache_dir: str | None = None,
                 cache_limit_bytes: int | None = None, filesystem: pafs.FileSystem | None = None):
        self.root, self.manifest = root, manifest
        self.remote = root.startswith("s3://")
        self.fs, self.base = filesystem_for(root, filesystem)
        self.cache_dir = cache_dir or os.path.join(os.path.expanduser("~"), ".cache", "qazflow-shards")
        self.cache_limit = cache_limit_bytes
        self.verified: set[str] = set()
        self.open_files: OrderedDict[str, pq.ParquetFile] = OrderedDict()

    def _name(self, path: str) -> str:
        return f"{self.root.rstrip('/')}/{path}" if self.remote else os.path.join(self.root, path)

    def local_path(self, path: str) -> str:
        entry = self.manifest.entry(path)
        if not self.remote:
            local = os.path.join(self.base, path)
            self._check(local, entry, self._name(path))
            return local
        os.makedirs(self.cache_dir, exist_ok=True)
        local = os.path.join(self.cache_dir, f"{entry.sha256}.parquet")
        if os.path.exists(local):
            os.utime(local)  # recency for eviction
            self._check(local, entry, self._name(path))
            return local
        self._evict(keep=entry.n_bytes)
        tmp = f"{local}.part-{os.getpid()}"
        try:
            with self.fs.open_input_stream(f"{self.base}/{path}") as src, open(tmp, "wb") as dst:
                while chunk := src.read(8 << 20):
                    dst.write(chunk)
        except (FileNotFoundError, OSError) as exc:
            raise ShardError(f"{self._name(path)}: missing or unreadable: {exc}") from exc
        self._check(tmp, entry, self._name(path))
        os.replace(tmp, local)
        self.verified.add(local)
        return local

    def _check(self, local: str, entry, name: str) -> None:
        if local in self.verified:
            return
        if not os.path.exists(local):
            raise ShardError(f"{name}: missing")
        size = os.path.getsize(local)
        if size != entry.n_bytes:
            raise ShardError(f"{name}: {size} bytes, manifest says {entry.n_bytes} (truncated or replaced)")
        if file_sha256(local) != entry.sha256:
            raise ShardError(f"{name}: sha256 differs from the manifest (corrupt)")
        self.verified.add(local)

    def _evict(self, keep: int) -> None:
        """Deletes least recently used cached shards until `keep` more bytes fit. An
        evicted shard still open keeps being readable (POSIX), and is fetched again
        when next opened. Mixtures interleave partitions: a limit below one shard per
        partition works but downloads shards repeatedly."""
        if self.cache_limit is None:
            return
        files = [os.path.join(self.cache_dir, f) for f in os.listdir(self.cache_dir) if f.endswith(".parquet")]
        files.sort(key=os.path.getmtime)
        total = sum(os.path.getsize(f) for f in files)
        for f in files:
            if total + keep <= self.cache_limit:
                break
            total -= os.path.getsize(f)
            os.remove(f)
            self.verified.discard(f)
            for path, file in list(self.open_files.items()):
                if file._qz_path == f:
                    del self.open_files[path]

    def open(self, path: str) -> pq.ParquetFile:
        if path in self.open_files:
            self.open_files.move_to_end(path)
            return self.open_files[path]
        local = self.local_path(path)
        try:
            file = pq.ParquetFile(local)
        except Exception as exc:  # noqa: BLE001 - any parquet failure names the shard
            raise ShardError(f"{self._name(path)}: not a readable Parquet file: {exc}") from exc
        file._qz_path = local
        self.open_files[path] = file
        while len(self.open_files) > 4:
            self.open_files.popitem(last=False)
        return file


def load_manifest(shards_dir: str, filesystem: pafs.FileSystem | None = None) -> ShardManifest:
    fs, base = filesystem_for(shards_dir, filesystem)
    try:
        with fs.open_input_stream(f"{base}/manifest.json") as f:
            return ShardManifest.from_json(f.read().decode("utf-8"))
    except FileNotFoundError as exc:
        raise ShardError(f"{shards_dir}/manifest.json: missing (the build did not finish)") from exc


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Unit:
    shard: str
    row_group: int
    tokens: int
    docs: int
    partition: str

    @property
    def length(self) -> int:  # in the stream: its tokens and one eos per document
        return self.tokens + self.docs


def plan_units(manifest: ShardManifest, mixture: Mixture, seed: int, epoch: int) -> list[Unit]:
    """The epoch's row groups in stream order (see the module docstring)."""
    groups: dict[str, list[Unit]] = {}
    for s in manifest.shards:
        for g, (t, d) in enumerate(zip(s.row_group_tokens, s.row_group_docs)):
            if t:
                groups.setdefault(s.partition_key, []).append(Unit(s.path, g, t, d, s.partition_key))
    budget = mixture.budget(manifest.partitions)
    keyed = []
    for key in sorted(groups):
        want, units = budget.get(key, 0), groups[key]
        if want <= 0:
            continue
        limit = mixture.cap(key) * manifest.partitions[key]
        rng = np.random.default_rng([seed, epoch, zlib.crc32(key.encode())])
        drawn, chosen, done = 0, [], False
        while not done:
            for i in rng.permutation(len(units)):
                u = units[i]
                # nearest whole row group to the budget, never past the cap
                if drawn + u.tokens / 2 > want or drawn + u.tokens > limit:
                    done = True
                    break
                chosen.append(u)
                drawn += u.tokens
        cum = 0
        for u in chosen:
            keyed.append(((cum + u.tokens / 2) / want, key, len(keyed), u))
            cum += u.tokens
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]


# --------------------------------------------------------------------------- who reads what


def _take(intervals: list, n: int) -> tuple[list, list]:
    """Splits a list of [a, b) intervals after its first n indices."""
    head, tail = [], []
    for a, b in intervals:
        if n <= 0:
            tail.append([a, b])
        elif b - a <= n:
            head.append([a, b])
            n -= b - a
        else:
            head.append([a, a + n])
            tail.append([a + n, b])
            n = 0
    return head, tail


def _count(intervals: list) -> int:
    return sum(b - a for a, b in intervals)


def _merge(intervals: list) -> list:
    out = []
    for a, b in sorted(intervals):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def _even_split(intervals: list, parts: int) -> list[list]:
    total, out, rest = _count(intervals), [], intervals
    for j in range(parts):
        head, rest = _take(rest, total // parts + (j < total % parts))
        out.append(head)
    return out


@dataclass
class Layout:
    """The assignment of samples to C consumers from some point of an epoch on."""

    n_samples: int
    consumers: int
    block: int
    frontier: int
    leftover: list  # per consumer: [a, b) intervals before the frontier it still has to read

    def round_slice(self, r: int, j: int) -> list | None:
        """Consumer j's interval in round r from the frontier; None past the epoch."""
        start = self.frontier + r * self.consumers * self.block
        if start >= self.n_samples:
            return None
        if self.n_samples - start >= self.consumers * self.block:
            return [start + j * self.block, start + (j + 1) * self.block]
        return _even_split([[start, self.n_samples]], self.consumers)[j] or [[start, start]]

    def sequence(self, j: int) -> Iterator[int]:
        for a, b in self.leftover[j]:
            yield from range(a, b)
        r = 0
        while (s := self.round_slice(r, j)) is not None:
            for a, b in (s if isinstance(s[0], list) else [s]):
                yield from range(a, b)
            r += 1

    def _intervals(self, j: int, rounds: int) -> list:
        out = [list(iv) for iv in self.leftover[j]]
        for r in range(rounds):
            s = self.round_slice(r, j)
            if s is None:
                break
            out.extend(s if isinstance(s[0], list) else [s])
        return out

    def advance(self, consumed: list[int]) -> "Layout":
        """The layout after consumer j has consumed `consumed[j]` samples."""
        rounds = []
        for j, c in enumerate(consumed):
            r, have = 0, _count(self.leftover[j])
            while have < c:
                s = self.round_slice(r, j)
                if s is None:
                    raise ValueError(f"consumer {j} cannot have consumed {c} samples: its epoch is shorter")
                have += _count(s if isinstance(s[0], list) else [s])
                r += 1
            rounds.append(r)
        top = max(rounds, default=0)
        leftover = [_take(self._intervals(j, top), c)[1] for j, c in enumerate(consumed)]
        frontier = min(self.frontier + top * self.consumers * self.block, self.n_samples)
        return Layout(self.n_samples, self.consumers, self.block, frontier, [_merge(iv) for iv in leftover])

    def regroup(self, consumers: int) -> "Layout":
        """Same remaining samples, another number of consumers."""
        if consumers == self.consumers:
            return self
        merged = _merge([iv for ivs in self.leftover for iv in ivs])
        return Layout(self.n_samples, consumers, self.block, self.frontier, _even_split(merged, consumers))


# --------------------------------------------------------------------------- the reader


class PackedReader:
    """Iterates this consumer's packed samples: dicts with `input_ids` (int64, seq_len+1),
    `labels` for SFT shards (-100 outside responses; shift by one for next-token loss)
    and, with `position_ids=True`, positions that restart after every eos.

    With `batch_size`, items are dicts of (batch_size, seq_len+1) arrays, and the last
    batch of an epoch may be shorter; use `DataLoader(reader.torch(), batch_size=None)`.
    """

    def __init__(self, shards_dir: str, seq_len: int, seed: int = 0, epoch: int = 0,
                 mixture: Mixture | str | dict | None = None, rank: int = 0, world_size: int = 1,
                 worker: int = 0, num_workers: int = 1, block_samples: int | None = None,
                 batch_size: int | None = None,
                 position_ids: bool = False, cache_dir: str | None = None, cache_limit_bytes: int | None = None,
                 filesystem: pafs.FileSystem | None = None, manifest: ShardManifest | None = None):
        self.shards_dir, self.seq_len, self.seed = shards_dir, int(seq_len), int(seed)
        self.filesystem = filesystem
        self.manifest = manifest or load_manifest(shards_dir, filesystem)
        self.mixture = self._mixture(mixture)
        self.rank, self.world_size, self.worker, self.num_workers = rank, world_size, worker, num_workers
        # a consumer's share of a round: by default about one row group, so each consumer
        # decompresses ~1-2 row groups per round instead of every consumer reading every one
        self.block = int(block_samples or self._default_block())
        self.batch_size, self.position_ids = batch_size, position_ids
        self.cache_dir, self.cache_limit_bytes = cache_dir, cache_limit_bytes
        self.eos = int(self.manifest.tokenizer["eos_id"])
        self.sft = self.manifest.kind == "sft"  # samples then carry `labels` too
        self.store = None
        self._resume: dict | None = None
        self.steps = 0  # items yielded by this object (no DataLoader workers)
        self.set_epoch(epoch)

    def _default_block(self) -> int:
        sizes = [t + d for s in self.manifest.shards for t, d in zip(s.row_group_tokens, s.row_group_docs)]
        return max(1, int(np.median(sizes)) // (self.seq_len + 1)) if sizes else 1

    def _mixture(self, mixture) -> Mixture:
        if mixture is None:
            return Mixture.natural(self.manifest.partitions)
        if isinstance(mixture, Mixture):
            return mixture
        if isinstance(mixture, dict):
            return Mixture.from_dict(mixture)
        fs, path = filesystem_for(mixture, self.filesystem)
        with fs.open_input_stream(path) as f:
            return Mixture.from_text(f.read().decode("utf-8"))

    def __getstate__(self):  # DataLoader workers and Ray tasks reopen files themselves
        state = dict(self.__dict__)
        state["store"], state["_units_cache"] = None, OrderedDict()
        return state

    # -- the epoch's plan
    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        self.units = plan_units(self.manifest, self.mixture, self.seed, self.epoch)
        lengths = np.array([u.length for u in self.units], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(lengths)])
        self.n_samples = int(self.offsets[-1] // (self.seq_len + 1))
        self._units_cache: OrderedDict[int, tuple] = OrderedDict()
        if self._resume is None or self._resume["epoch"] != self.epoch:
            self._resume = None

    @property
    def layout_key(self) -> list:
        return [self.world_size, self.num_workers, self.batch_size or 1, self.block]

    def _fresh_layout(self) -> Layout:
        c = self.world_size * self.num_workers
        return Layout(self.n_samples, c, self.block * (self.batch_size or 1), 0, [[] for _ in range(c)])

    def _layout(self) -> tuple[Layout, int]:
        """(layout for this run, rotation of workers within a rank)."""
        if self._resume is None:
            return self._fresh_layout(), 0
        r = self._resume
        layout = Layout(self.n_samples, len(r["leftover"]), r["block"], r["frontier"], r["leftover"])
        if r["layout"] == self.layout_key:
            return layout, r["rotation"]
        # another layout: regroup over the new consumers, in samples (blocks stay contiguous)
        regrouped = layout.regroup(self.world_size * self.num_workers)
        regrouped.block = self.block * (self.batch_size or 1)
        return regrouped, 0

    def consumer_index(self, worker: int | None = None) -> int:
        _, rotation = self._layout()
        w = self.worker if worker is None else worker
        return self.rank * self.num_workers + (w + rotation) % self.num_workers

    def sample_indices(self) -> Iterator[int]:
        """The global sample indices this consumer reads, in order."""
        layout, _ = self._layout()
        return layout.sequence(self.consumer_index())

    # -- checkpoints
    def state_dict(self, steps: int | None = None) -> dict:
        """The stream's position after every rank took `steps` items from its loader
        (default: what this object yielded itself, for use without DataLoader workers)."""
        steps = self.steps if steps is None else int(steps)
        layout, rotation = self._layout()
        per_item = self.batch_size or 1
        consumed = [0] * layout.consumers
        for rank in range(self.world_size):
            for w in range(self.num_workers):  # a DataLoader takes items from workers in turn, from worker 0
                items = steps // self.num_workers + (w < steps % self.num_workers)
                consumed[rank * self.num_workers + (w + rotation) % self.num_workers] = items * per_item
        # at an epoch's end a consumer may have had fewer items than the rank's count
        consumed = [min(c, _count(layout._intervals(j, 1 << 30))) for j, c in enumerate(consumed)]
        after = layout.advance(consumed)
        return {"version": STATE_VERSION, "epoch": self.epoch, "seed": self.seed, "seq_len": self.seq_len,
                "n_samples": self.n_samples, "manifest": self.manifest.config_hash,
                "mixture": hashlib.sha256(self.mixture.to_json().encode()).hexdigest()[:16],
                "layout": self.layout_key, "rotation": (rotation + steps) % self.num_workers,
                "block": after.block, "frontier": after.frontier, "leftover": after.leftover}

    def load_state_dict(self, state: dict) -> None:
        mine = {"version": STATE_VERSION, "seed": self.seed, "seq_len": self.seq_len,
                "manifest": self.manifest.config_hash,
                "mixture": hashlib.sha256(self.mixture.to_json().encode()).hexdigest()[:16]}
        bad = {k: (state.get(k), v) for k, v in mine.items() if state.get(k) != v}
        if bad:
            raise ValueError(f"checkpoint was made for another stream: {bad}")
        self._resume = None
        self.set_epoch(state["epoch"])
        self._resume = json.loads(json.dumps(state))
        self.steps = 0

    def _resume_layout_check(self) -> None:
        """Nothing to do: the layout is derived lazily from the current settings."""

    # -- reading
    def _unit_tokens(self, u: int) -> tuple:
        """(tokens with eos after each document, True where a document starts, labels
        for SFT shards (-100 outside responses and on the separators) else None)."""
        if u in self._units_cache:
            self._units_cache.move_to_end(u)
            return self._units_cache[u]
        if self.store is None:
            self.store = ShardStore(self.shards_dir, self.manifest, self.cache_dir, self.cache_limit_bytes,
                                    self.filesystem)
        unit = self.units[u]
        try:
            columns = ["doc_id", "input_ids"] + (["labels"] if self.sft else [])
            table = self.store.open(unit.shard).read_row_group(unit.row_group, columns=columns)
        except ShardError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ShardError(f"{self.store._name(unit.shard)}: row group {unit.row_group} unreadable: {exc}") from exc
        ids = table.column("input_ids").combine_chunks()
        values = ids.values.to_numpy()  # uint32: half the memory of int64 for the cached units
        offsets = ids.offsets.to_numpy()
        doc = table.column("doc_id").to_numpy(zero_copy_only=False)
        last = np.append(doc[1:] != doc[:-1], True) if len(doc) else np.zeros(0, bool)
        if len(values) != unit.tokens or int(last.sum()) != unit.docs:
            raise ShardError(f"{self.store._name(unit.shard)}: row group {unit.row_group} holds {len(values)} "
                             f"tokens / {int(last.sum())} docs, manifest says {unit.tokens} / {unit.docs}")
        ends = offsets[1:][last]
        tokens = np.insert(values, ends, np.uint32(self.eos))
        starts = np.zeros(len(tokens), bool)
        # a document starts at the unit's start and after every inserted eos
        eos_at = ends + np.arange(len(ends))
        starts[0:1] = True
        starts[(eos_at + 1)[eos_at + 1 < len(tokens)]] = True
        labels = None
        if self.sft:
            flat = table.column("labels").combine_chunks().values.to_numpy()
            labels = np.insert(flat, ends, -100)
        self._units_cache[u] = (tokens, starts, labels)
        while len(self._units_cache) > 3:
            self._units_cache.popitem(last=False)
        return self._units_cache[u]

    def sample(self, i: int) -> dict:
        if not 0 <= i < self.n_samples:
            raise IndexError(i)
        size = self.seq_len + 1
        lo, hi = i * size, (i + 1) * size
        first = int(np.searchsorted(self.offsets, lo, side="right")) - 1
        parts, starts, labels = [], [], []
        u = first
        while lo < hi:
            tokens, st, lab = self._unit_tokens(u)
            a = lo - int(self.offsets[u])
            b = min(len(tokens), a + hi - lo)
            parts.append(tokens[a:b])
            starts.append(st[a:b])
            if lab is not None:
                labels.append(lab[a:b])
            lo += b - a
            u += 1
        out = {"input_ids": np.concatenate(parts).astype(np.int64)}  # what embedding layers take
        if self.sft:
            out["labels"] = np.concatenate(labels).astype(np.int64)
        if self.position_ids:
            st = np.concatenate(starts)
            st[0] = True
            idx = np.arange(size)
            out["position_ids"] = idx - np.maximum.accumulate(np.where(st, idx, 0))
        return out

    def __iter__(self) -> Iterator[dict]:
        indices = self.sample_indices()
        per = self.batch_size
        while True:
            if per is None:
                i = next(indices, None)
                if i is None:
                    return
                item = self.sample(i)
            else:
                batch = [self.sample(i) for _, i in zip(range(per), indices)]
                if not batch:
                    return
                item = {k: np.stack([b[k] for b in batch]) for k in batch[0]}
            self.steps += 1
            yield item

    def __len__(self) -> int:
        return sum(1 for _ in self.sample_indices()) if self.batch_size is None else -(-sum(
            1 for _ in self.sample_indices()) // self.batch_size)

    # -- integrations
    def torch(self, num_workers: int | None = None):
        """A torch IterableDataset over this reader (torch imported only here). Give the
        DataLoader's `num_workers` here too: checkpoints are computed in the main process,
        which must know how the DataLoader splits the rank's stream. Rank and world size
        come from torch.distributed when it is initialised and none were given."""
        import torch
        from torch.utils.data import IterableDataset, get_worker_info

        reader = self
        if num_workers is not None:
            reader.num_workers = max(1, int(num_workers))
            reader._resume_layout_check()
        if reader.world_size == 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            reader.rank, reader.world_size = torch.distributed.get_rank(), torch.distributed.get_world_size()

        class PackedDataset(IterableDataset):
            def __init__(self):
                self.reader = reader

            def __iter__(self):
                info = get_worker_info()
                r = self.reader
                if info is not None:
                    if info.num_workers != r.num_workers:
                        raise ValueError(f"DataLoader has {info.num_workers} workers, reader.torch(num_workers=) "
                                         f"said {r.num_workers}")
                    r.worker = info.id
                for item in r:
                    yield {k: torch.from_numpy(v) for k, v in item.items()}

            def state_dict(self, steps: int | None = None) -> dict:
                return self.reader.state_dict(steps)

            def load_state_dict(self, state: dict) -> None:
                self.reader.load_state_dict(state)

            def set_epoch(self, epoch: int) -> None:
                self.reader.set_epoch(epoch)

        return PackedDataset()
