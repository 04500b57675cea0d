"""The KNN router (flowcompile.router) on synthetic outcome tables: its
neighbours, ties, determinism, what it predicts, when leave-one-out lets it
route, and the artifact section's version."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from flowcompile.router import (
    Features,
    KnnRouter,
    RouterError,
    RouterSection,
    fit,
    hashed_features,
    parse_features,
)
from flowcompile.selection import BUILTIN_PRESETS, Preference, Selector, choose

ESTIMATES = [(0.5, 1.0), (0.5, 1.0)]
"""Two points the compiled set cannot tell apart."""


def _texts(n: int, topic: str) -> list[str]:
    return [f"{topic} question number {i} about {topic} things" for i in range(n)]


def _table(texts: list[str], right: list[tuple[int, int]], lat: tuple[float, float] = (1.0, 1.0)):
    return [list(r) for r in right], [list(lat) for _ in texts]


def _section(texts: list[str], outcomes, **options) -> RouterSection:
    return fit(texts, [f"t{i}" for i in range(len(texts))], outcomes, ESTIMATES, {}, points="sha256:x",
               split="test", **options)


def test_hashed_features_are_unit_length_stable_and_empty_for_no_text() -> None:
    v = hashed_features("Solve the problem: 2 + 2")
    assert np.linalg.norm(v) == pytest.approx(1.0)
    assert np.array_equal(v, hashed_features("Solve the problem: 2 + 2"))
    assert np.array_equal(hashed_features("SOLVE the problem: 2 + 2"), v)  # lower-cased
    assert not hashed_features("").any()
    assert hashed_features("a b c", dim=64).shape == (64,)
    # related texts are nearer than unrelated ones
    near = hashed_features("Solve the problem: 3 + 3")
    far = hashed_features("Write a poem about autumn leaves")
    assert v @ near > v @ far


def test_parse_features() -> None:
    assert parse_features("hashed") == Features()
    assert parse_features("hashed:256").dim == 256
    assert parse_features("litellm:text-embedding-3-small").model == "text-embedding-3-small"
    for bad in ("hashed:8", "hashed:x", "litellm:", "bert"):
        with pytest.raises(RouterError):
            parse_features(bad)


def test_neighbours_are_the_most_similar_and_ties_go_to_the_earlier_query() -> None:
    texts = ["alpha beta", "alpha beta", "gamma delta", "alpha beta gamma"]
    section = _section(texts, _table(texts, [(1, 0)] * 4), k=2)
    router = KnnRouter(section, ESTIMATES, {})
    near = router.neighbours(hashed_features("alpha beta"))
    assert near.tolist() == [0, 1]  # 0 and 1 are identical texts: the tie goes to the earlier
    assert router.neighbours(hashed_features("alpha beta"), k=3).tolist() == [0, 1, 3]
    assert router.neighbours(hashed_features("alpha beta"), k=2, exclude=0).tolist() == [1, 3]


def test_the_router_routes_where_the_text_predicts_which_point_succeeds() -> None:
    """Point 0 is right on the alpha queries, point 1 on the beta ones: leave-one-out
    keeps a small k, and every query goes to the point right on its kind."""
    texts = _texts(20, "alpha") + _texts(20, "beta")
    section = _section(texts, _table(texts, [(1, 0)] * 20 + [(0, 1)] * 20))
    assert section.k < len(texts)
    assert float(section.cv[str(section.k)]) > float(section.cv[str(len(texts) - 1)])
    router = KnnRouter(section, ESTIMATES, {})
    new = ["alpha question number 99 about alpha things", "beta question number 99 about beta things"]
    for preset in BUILTIN_PRESETS:
        assert router.route(new, Selector(preset=preset)) == [0, 1]
    # the single point gets half of them right; the router all
    assert choose(ESTIMATES, BUILTIN_PRESETS["accurate"]) == 0


def test_without_signal_auto_k_is_every_query_and_the_router_is_the_single_point() -> None:
    """Outcomes drawn at the points' estimated rates, whatever the text: no k
    routes better than the single point beyond the noise, so none is kept."""
    rng = np.random.default_rng(0)
    estimates = [(0.55, 1.0), (0.6, 3.0), (0.7, 9.0)]
    n = 80
    texts = [f"query {i} {'x' * int(rng.integers(1, 9))}" for i in range(n)]
    correct = [[int(rng.random() < acc) for acc, _ in estimates] for _ in texts]
    outcomes = (correct, [[lat for _, lat in estimates] for _ in texts])
    section = fit(texts, [f"t{i}" for i in range(n)], outcomes, estimates, {}, points="p", split="s")
    assert section.k == n
    assert set(section.cv) == {"1", "2", "4", "8", "16", "32", "64", str(n - 1)}
    router = KnnRouter(section, estimates, {})
    new = [f"query {i}" for i in range(100, 110)]
    for name, preference in BUILTIN_PRESETS.items():
        assert set(router.route(new, Selector(preset=name))) == {choose(estimates, preference)}


def test_with_every_query_as_neighbour_the_prediction_is_the_estimate() -> None:
    texts = _texts(6, "alpha")
    estimates = [(0.3, 2.0), (0.8, 5.0)]
    outcomes = ([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]], [[1.0, 4.0]] * 6)
    section = fit(texts, [f"t{i}" for i in range(6)], outcomes, estimates, {}, points="p", split="s", k=6)
    router = KnnRouter(section, estimates, {})
    assert router.predict(hashed_features("anything")) == estimates  # bit for bit: no offset at all
    # one neighbour: the estimate moved by how that query differed from the mean, shrunk by the prior
    (acc0, lat0), _ = router.predict(hashed_features(texts[0]), k=1)
    assert acc0 == pytest.approx(0.3 + (1 - 0.5) * 1 / 3)
    assert lat0 == pytest.approx(2.0)


def test_the_same_section_and_query_give_the_same_choice_and_training_is_deterministic() -> None:
    texts = _texts(10, "alpha") + _texts(10, "beta")
    table = _table(texts, [(1, 0)] * 10 + [(0, 1)] * 10, lat=(1.0, 2.0))
    first, second = _section(texts, table), _section(texts, table)
    assert first.model_dump_json() == second.model_dump_json()
    a, b = KnnRouter(first, ESTIMATES, {}), KnnRouter(second, ESTIMATES, {})
    queries = _texts(5, "beta") + _texts(5, "alpha")
    assert a.route(queries, Selector(preset="fast")) == b.route(queries, Selector(preset="fast"))


def test_constraints_no_prediction_meets_fall_back_to_the_single_point() -> None:
    texts = _texts(8, "alpha")
    estimates = [(0.6, 1.0), (0.9, 4.0)]
    outcomes = ([[0, 0]] * 8, [[1.0, 4.0]] * 8)  # every point wrong on these queries
    section = fit(texts, [f"t{i}" for i in range(8)], outcomes, estimates, {}, points="p", split="s", k=2)
    router = KnnRouter(section, estimates, {"sure": Preference(min_acc=0.85)})
    # predicted accuracy on an alpha query is below 0.85 everywhere: the single point's choice
    assert router.route([texts[0]], Selector(preset="sure")) == [choose(estimates, Preference(min_acc=0.85))] == [1]


def test_bad_training_input_is_refused() -> None:
    with pytest.raises(RouterError, match="at least 2"):
        _section(["one"], ([[1, 0]], [[1.0, 1.0]]))
    with pytest.raises(RouterError, match="duplicate"):
        fit(["a", "b"], ["t", "t"], ([[1, 0], [0, 1]], [[1.0, 1.0]] * 2), ESTIMATES, {}, points="p", split="s")
    with pytest.raises(RouterError, match="k=0"):
        _section(["a", "b"], ([[1, 0], [0, 1]], [[1.0, 1.0]] * 2), k=0)
    section = _section(["a", "b"], ([[1, 0], [0, 1]], [[1.0, 1.0]] * 2), k=1)
    with pytest.raises(RouterError, match="one entry per point"):
        KnnRouter(section, [(0.5, 1.0)] * 3, {})


def test_a_router_section_of_another_version_is_refused_with_what_to_do() -> None:
    section = _section(["a", "b"], ([[1, 0], [0, 1]], [[1.0, 1.0]] * 2), k=1)
    data = section.model_dump(mode="json")
    assert data["version"] == 1
    with pytest.raises(ValidationError, match="router version 2 is not one this flowcompile reads.*train-router"):
        RouterSection.model_validate({**data, "version": 2})
    assert RouterSection.model_validate(data) == section


def test_an_embedding_model_through_litellm_is_called_once_per_batch_and_its_vectors_stored(monkeypatch) -> None:
    import litellm

    calls: list[list[str]] = []

    def embedding(model: str, input: list[str]):  # noqa: A002 - litellm's own parameter name
        calls.append(list(input))
        assert model == "my-embedder"
        return {"data": [{"embedding": [1.0, 0.0, 0.0] if "alpha" in t else [0.0, 2.0, 0.0]} for t in input]}

    monkeypatch.setattr(litellm, "embedding", embedding)
    texts = _texts(6, "alpha") + _texts(6, "beta")
    section = _section(texts, _table(texts, [(1, 0)] * 6 + [(0, 1)] * 6), features=parse_features("litellm:my-embedder"))
    assert len(calls) == 1 and section.features.kind == "litellm" and section.features.dim == 16
    assert section.vectors[6] == [(1, 1.0)]  # normalised, sparse
    router = KnnRouter(section, ESTIMATES, {})
    assert router.route(["alpha new", "beta new"], Selector(preset="accurate")) == [0, 1]

    def failing(model: str, input: list[str]):  # noqa: A002
        raise ConnectionError("no route to host")

    monkeypatch.setattr(litellm, "embedding", failing)
    with pytest.raises(RouterError, match="embedding model 'my-embedder' failed: ConnectionError"):
        router.route(["alpha"], Selector())
