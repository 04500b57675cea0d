"""A finished search leaves nothing behind: its plan and tables live on the
search itself (a `functools.cache` on a method kept every `_Search`, and its
graph, alive)."""

from __future__ import annotations

import gc
import weakref

from flowcompile.proxy.scopes import Scopes
from flowcompile.proxy.search import DEFAULT_LIMIT, _Search, frontier
from test_proxy_search import random_workflow


def test_a_finished_search_is_collected() -> None:
    tabled = 0
    for seed in range(40):
        root = random_workflow(seed)
        search = _Search(root, DEFAULT_LIMIT)
        points = search.run()
        tabled += bool(search.scopes.outer_keys or search.spread_tables)
        gone = weakref.ref(search)
        del search
        gc.collect()
        assert gone() is None, f"seed {seed}: the search outlived its run"
        assert [p.assignment for p in points] == [p.assignment for p in frontier(root)]  # one search, one result
    assert tabled  # some searches had loops or fork branches, so the check above meant something


def test_no_method_caches() -> None:
    for cls in (_Search, Scopes):
        assert not any(hasattr(getattr(cls, name), "cache_info") for name in dir(cls)), cls
    search = _Search(random_workflow(0), DEFAULT_LIMIT)
    assert all(isinstance(m, dict) for m in (search.scopes.outer_keys, search.scopes.body_vars,
                                             search.spread_tables))
