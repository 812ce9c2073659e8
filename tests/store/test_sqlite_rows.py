"""Row helpers of the SQLite store."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from smsc.store.sqlite_rows import id_runs


def test_id_runs_examples() -> None:
    assert id_runs([]) == []
    assert id_runs([5]) == [(5, 5)]
    assert id_runs([3, 1, 2, 7, 9, 8, 2]) == [(1, 3), (7, 9)]


@given(st.lists(st.integers(1, 300), max_size=80))
def test_id_runs_cover_exactly_the_ids(ids: list[int]) -> None:
    runs = id_runs(ids)
    covered = [i for first, last in runs for i in range(first, last + 1)]
    assert covered == sorted(set(ids))
    # Runs are maximal: never two that touch.
    assert all(b[0] > a[1] + 1 for a, b in itertools.pairwise(runs))
