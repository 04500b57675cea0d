"""A finished search leaves nothing behind: its memos live on the search itself
(a `functools.cache` on a method kept every `_Search`, and its graph, alive)."""

from __future__ import annotations

import gc
import weakref

from flowcompile.proxy.search import DEFAULT_LIMIT, _Search, frontier
from test_proxy_search import random_workflow


def test_a_finished_search_is_collected() -> None:
    memoised = 0
    for seed in range(40):
        root = random_workflow(seed)
        search = _Search(root, DEFAULT_LIMIT)
        points = search.run()
        memoised += bool(search._outer_keys_memo or search._body_vars_memo or search._spread_table_memo)
        gone = weakref.ref(search)
        del search
        gc.collect()
        assert gone() is None, f"seed {seed}: the search outlived its run"
        assert [p.assignment for p in points] == [p.assignment for p in frontier(root)]  # memos change no result
    assert memoised  # some searches used the memos, so the check above meant something


def test_the_memos_are_set_in_init() -> None:
    search = _Search(random_workflow(0), DEFAULT_LIMIT)
    assert all(isinstance(m, dict) for m in (search._outer_keys_memo, search._body_vars_memo,
                                             search._spread_table_memo))
    assert not any(hasattr(getattr(_Search, name), "cache_info") for name in dir(_Search))
