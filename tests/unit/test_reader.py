"""The trainers' reader over real shards (trained BPE → Tokenize → ShardPacker)."""
import itertools
import os
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from operators.tokens.mixture import Mixture
from operators.tokens.reader import PackedReader, ShardError, plan_units
from tests.unit._shards import write_shards

SEQ = 31


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    out = tmp_path_factory.mktemp("shards")
    manifest, rows, tokenizer = write_shards(out)
    return out, manifest, rows, tokenizer


def reader(shards, **kw):
    return PackedReader(str(shards[0]), seq_len=SEQ, manifest=shards[1], **kw)


def rank_stream(make, rank, world, workers, state=None):
    """What a DataLoader over `workers` worker copies yields on one rank: items taken
    from the workers in turn, from worker 0, a finished worker skipped."""
    its = []
    for w in range(workers):
        r = make(rank=rank, world_size=world, worker=w, num_workers=workers)
        if state is not None:
            r.load_state_dict(state)
        its.append(iter(r))
    live = list(range(workers))
    while live:
        for w in list(live):
            item = next(its[w], None)
            if item is None:
                live.remove(w)
            else:
                yield item


def ids(item):
    return tuple(item["input_ids"].tolist())


def test_samples_pack_every_document_once_separated_by_eos(shards):
    _, manifest, rows, tokenizer = shards
    r = reader(shards)
    stream = np.concatenate([r.sample(i)["input_ids"] for i in range(r.n_samples)])
    assert all(len(r.sample(i)["input_ids"]) == SEQ + 1 for i in (0, r.n_samples - 1))
    total = manifest.totals["n_tokens"] + manifest.totals["n_docs"]
    assert r.n_samples == total // (SEQ + 1)  # only the tail shorter than one sample is dropped
    eos = manifest.tokenizer["eos_id"]
    docs = {}
    for row in rows.to_pylist():
        docs.setdefault(row["doc_id"], []).extend(row["input_ids"])
    cuts = np.flatnonzero(stream == eos)
    packed = [tuple(p) for p in np.split(stream, cuts + 1)[:-1]]
    packed = Counter(p[:-1] for p in packed)  # drop the eos
    expected = Counter(tuple(v) for v in docs.values())
    # every document once, whole, chunks rejoined; at most the last one, cut by the tail, missing
    assert not packed - expected and sum((expected - packed).values()) <= 1
    first = tuple(stream[: cuts[0]])
    assert tokenizer.decode(list(first)) in {tokenizer.decode(list(v)) for v in docs.values()}


def test_position_ids_restart_after_every_eos(shards):
    r = reader(shards, position_ids=True)
    eos = shards[1].tokenizer["eos_id"]
    for i in range(0, r.n_samples, 97):
        s = r.sample(i)
        x, pos = s["input_ids"], s["position_ids"]
        assert pos[0] == 0
        for k in range(1, SEQ + 1):
            assert pos[k] == (0 if x[k - 1] == eos else pos[k - 1] + 1)


def test_order_is_a_pure_function_of_manifest_mixture_seed_epoch(shards):
    a = [ids(s) for s in reader(shards, seed=7, epoch=1)]
    assert a == [ids(s) for s in reader(shards, seed=7, epoch=1)]
    assert a != [ids(s) for s in reader(shards, seed=8, epoch=1)]
    assert a != [ids(s) for s in reader(shards, seed=7, epoch=2)]
    # another seed reorders row groups but keeps every document: same token multiset
    tokens = lambda items: np.bincount(np.concatenate([np.array(t) for t in items]), minlength=600)  # noqa: E731
    b = [ids(s) for s in reader(shards, seed=8, epoch=1)]
    assert np.abs(tokens(a) - tokens(b)).sum() <= 2 * (SEQ + 1)


@pytest.mark.parametrize("world,workers", [(2, 2), (3, 1), (1, 4)])
def test_ranks_and_workers_cover_every_sample_exactly_once(shards, world, workers):
    def make(**kw):
        return reader(shards, seed=3, block_samples=5, **kw)

    whole = make()
    seen = []
    for rank in range(world):
        seen += [ids(s) for s in rank_stream(make, rank, world, workers)]
    expected = [ids(whole.sample(i)) for i in range(whole.n_samples)]
    assert sorted(seen) == sorted(expected) and len(seen) == whole.n_samples
    # and the per-consumer index lists are disjoint and gap-free
    indices = [i for rank in range(world) for w in range(workers)
               for i in make(rank=rank, world_size=world, worker=w, num_workers=workers).sample_indices()]
    assert sorted(indices) == list(range(whole.n_samples))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.integers(0, 700), workers=st.sampled_from([1, 2, 3]), batch=st.sampled_from([None, 2]))
def test_resume_gives_exactly_the_uninterrupted_stream(shards, steps, workers, batch):
    def make(**kw):
        return reader(shards, seed=1, block_samples=4, batch_size=batch, **kw)

    full = [ids(s) if batch is None else tuple(map(tuple, s["input_ids"].tolist()))
            for s in rank_stream(make, 1, 2, workers)]
    steps = min(steps, len(full))
    state = make(rank=0, world_size=2, num_workers=workers).state_dict(steps)
    again = [ids(s) if batch is None else tuple(map(tuple, s["input_ids"].tolist()))
             for s in rank_stream(make, 1, 2, workers, state=state)]
    assert full[steps:] == again


def test_resume_mid_shard_without_workers_uses_its_own_count(shards):
    r = reader(shards, seed=2)
    it = iter(r)
    head = [ids(next(it)) for _ in range(123)]
    state = r.state_dict()
    rest = [ids(s) for s in it]
    resumed = reader(shards, seed=2)
    resumed.load_state_dict(state)
    assert [ids(s) for s in resumed] == rest and len(head) + len(rest) == r.n_samples
    with pytest.raises(ValueError, match="another stream"):
        reader(shards, seed=3).load_state_dict(state)


def _run(make, world, steps, state):
    """Every rank takes `steps` items (or what it has); returns items and the checkpoint."""
    got = []
    for rank in range(world):
        got += [ids(s) for s in itertools.islice(rank_stream(make, rank, world, 1, state), steps)]
    return got, make(rank=0, world_size=world, num_workers=1, state=state).state_dict(steps)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.integers(0, 200), b=st.integers(0, 200), block=st.sampled_from([1, 3, 8]),
       sizes=st.sampled_from([(8, 4, 16), (4, 2, 3), (3, 5, 1)]))
def test_elastic_resume_sees_every_remaining_sample_exactly_once(shards, a, b, block, sizes):
    def make(state=None, **kw):
        r = reader(shards, seed=5, block_samples=block, **kw)
        if state is not None:
            r.load_state_dict(state)
        return r

    n = make().n_samples
    first, state = _run(make, sizes[0], a, None)
    second, state = _run(make, sizes[1], b, state)
    third, _ = _run(make, sizes[2], 10**6, state)
    everything = first + second + third
    whole = make()
    assert len(everything) == n
    assert sorted(everything) == sorted(ids(whole.sample(i)) for i in range(n))


def test_mixture_weights_and_epoch_caps(shards):
    manifest = shards[1]
    parts = manifest.partitions
    # upsample Kazakh books: weight far above their size, at most 3 passes
    mix = Mixture(weights={"book/kk": 1.0, "text/kk": 1.0, "news/ru": 1.0, "news/en": 1.0},
                  max_epochs={"book/kk": 3.0, "text/kk": 3.0})
    budget = mix.budget(parts)
    drawn = {}
    for u in plan_units(manifest, mix, seed=0, epoch=0):
        drawn[u.partition] = drawn.get(u.partition, 0) + u.tokens
    for key, tokens in drawn.items():
        assert tokens <= mix.cap(key) * parts[key]  # the cap holds
        largest = max(t for s in manifest.shards if s.partition_key == key for t in s.row_group_tokens)
        assert abs(tokens - budget[key]) <= largest / 2 + 1  # within half a row group of the budget
    # the smallest partition reaches its cap and sets the budget; shares follow the weights
    shares = {k: v / sum(drawn.values()) for k, v in drawn.items()}
    assert all(abs(s - 0.25) < 0.06 for s in shares.values()), shares
    assert drawn["text/kk"] > parts["text/kk"]  # upsampled: more than one pass
    r = reader(shards, mixture=mix)
    assert r.n_samples > reader(shards).n_samples * 0.9
    # tight, fractional caps over many seeds: never a row group past the cap
    for cap, seed in itertools.product([1.2, 1.5, 2.5], range(25)):
        mix = Mixture(weights={"book/kk": 5.0, "news/ru": 1.0}, max_epochs={"book/kk": cap})
        kk = sum(u.tokens for u in plan_units(manifest, mix, seed, 0) if u.partition == "book/kk")
        assert parts["book/kk"] <= kk <= cap * parts["book/kk"]


def test_corrupt_truncated_and_missing_shards_fail_naming_the_file(shards, tmp_path):
    import shutil

    src, manifest = shards[0], shards[1]
    for damage in ("flip", "truncate", "delete"):
        copy = tmp_path / damage
        shutil.copytree(src, copy)
        victim = copy / manifest.shards[0].path
        data = bytearray(victim.read_bytes())
        if damage == "flip":
            data[len(data) // 2] ^= 0xFF
            victim.write_bytes(bytes(data))
        elif damage == "truncate":
            victim.write_bytes(bytes(data[: len(data) - 100]))
        else:
            os.remove(victim)
        r = PackedReader(str(copy), seq_len=SEQ)
        with pytest.raises(ShardError, match=manifest.shards[0].path):
            list(r)


def test_torch_dataloader_with_workers_matches_the_plain_stream_and_resumes(shards):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    def make(**kw):
        return reader(shards, seed=4, block_samples=3, **kw)

    plain = [ids(s) for s in rank_stream(make, 0, 1, 2)]
    ds = make().torch(num_workers=2)
    loader = DataLoader(ds, batch_size=None, num_workers=2)
    items = list(loader)
    assert all(torch.is_tensor(x["input_ids"]) and x["input_ids"].dtype == torch.int64 for x in items)
    got = [tuple(x["input_ids"].tolist()) for x in items]
    assert got == plain
    state = ds.state_dict(steps=101)
    ds2 = make().torch(num_workers=2)
    ds2.load_state_dict(state)
    again = [tuple(x["input_ids"].tolist()) for x in DataLoader(ds2, batch_size=None, num_workers=2)]
    assert again == plain[101:]
