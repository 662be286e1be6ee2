"""A stage the cluster lost work under runs again; a stage that failed on its own does not."""
import pytest
from ray import exceptions as rex

from flows.runtime import lost_to_the_cluster, surviving_lost_nodes


def failing(errors: list[BaseException], result="done"):
    calls = []

    def run():
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result
    return run, calls


def wrapped(inner: BaseException) -> BaseException:
    """How Ray Data surfaces a dead actor: an application error raised from it."""
    try:
        try:
            raise inner
        except Exception as e:
            raise RuntimeError("write_parquet failed") from e
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize("error", [rex.ActorDiedError(), rex.NodeDiedError("node gone"),
                                   rex.WorkerCrashedError(), wrapped(rex.ActorDiedError())])
def test_lost_actors_nodes_and_workers_are_the_clusters_fault(error):
    assert lost_to_the_cluster(error)


@pytest.mark.parametrize("error", [ValueError("bad config"), OSError(28, "No space left on device"),
                                   wrapped(KeyError("text"))])
def test_the_stages_own_errors_are_not(error):
    assert not lost_to_the_cluster(error)


def test_a_stage_that_lost_an_actor_runs_again_and_the_retry_is_recorded():
    run, calls = failing([wrapped(rex.ActorDiedError())])
    retries = []
    assert surviving_lost_nodes("curate", run, attempts=3, retries=retries) == "done"
    assert len(calls) == 2
    assert retries == [{"stage": "curate", "attempt": 1, "nodes_lost": 0,
                        "error": "RuntimeError: write_parquet failed"}]


def test_a_stage_error_of_its_own_is_raised_at_once():
    run, calls = failing([ValueError("tokenizer.path: no such file")])
    retries = []
    with pytest.raises(ValueError, match="tokenizer.path"):
        surviving_lost_nodes("shards", run, attempts=3, retries=retries)
    assert len(calls) == 1 and retries == []


def test_attempts_are_bounded():
    run, calls = failing([rex.WorkerCrashedError() for _ in range(5)])
    retries = []
    with pytest.raises(rex.WorkerCrashedError):
        surviving_lost_nodes("pages", run, attempts=3, retries=retries)
    assert len(calls) == 3 and [r["attempt"] for r in retries] == [1, 2]
