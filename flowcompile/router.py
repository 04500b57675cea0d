"""Per-query routing over a compiled set: a k-nearest-neighbour router.

The compiled set holds Pareto-optimal configurations; `run --preset` picks one
of them for every query. The router picks one per query instead: for a new
query it finds the k most similar training queries (cosine similarity of
cheap text features) and predicts each point's success chance and latency as
the point's compiled estimate, moved by how much better or worse than its
mean that point *measured* on those neighbours (shrunk by `prior`
pseudo-queries). It then picks the point the preference would pick among
those predictions, by `flowcompile.selection.choose`, with the weight's
rescaling fixed to the compiled set's (`Scale.over` the points' estimates):
the preset's objective is then one linear utility for every query, so
maximising it query by query maximises its mean, and with every training
query as neighbour the router picks exactly the single point `run --preset`
picks. A preference whose constraints (`max_latency`, `min_acc`) no point's
prediction meets for a query falls back to that single point.

Training data: a routing split of its own, not the validation split.
Validation runs only the halving's survivors on its later batches, so no full
per-query table of the final points exists, and its queries chose the points,
so their outcomes flatter them. `run_points` runs every compiled point on every
routing query; `flowcompile train-router` checks that the split shares no
query with the profiling and validation sets recorded in the IR.

k: `auto` (the default) is chosen by leave-one-out over the training queries:
the k whose routes have the highest mean objective over the built-in presets,
kept only when it beats routing every query to the single point by more than
`SIGNIFICANCE_Z` standard errors; otherwise k is every training query, and the
router is the single point. That is what it should be where the features say
nothing about which point succeeds (the sim world: a query's difficulty is a
hash of its id, not of its text).

Features need no model download: hashed word 1-2-grams and character 3-grams
(crc32 buckets, signed, L2-normalised); or, when the user names one, an
embedding model through litellm (`litellm:<model>`), whose vectors are stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from flowcompile.selection import (
    BUILTIN_PRESETS,
    Preference,
    Scale,
    SelectionError,
    Selector,
    choose,
    eligible,
    preference_of,
)
from flowcompile.backends.litellm_backend import load_litellm
from flowcompile.runtime import run_many, score

ROUTER_VERSION = 1
"""The version of the artifact's `router` section this code reads and writes."""
ROUTER_SEED_OFFSET = 3000
"""`train-router` draws its simulated routing split with seed + this: ids none of
profiling (seed), validation (seed + 500), evaluate (seed + 1000) or run (seed + 7919) use."""
DEFAULT_SAMPLES = 128
DEFAULT_PRIOR = 2.0
K_GRID = (1, 2, 4, 8, 16, 32, 64, 128, 256)
"""The k `auto` tries by leave-one-out (and every training query but one)."""


class RouterError(ValueError):
    """A router that cannot be trained, read or used."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Features(_Model):
    """How a query becomes a vector."""

    kind: Literal["hashed", "litellm"] = "hashed"
    dim: int = Field(1024, ge=16, le=1 << 20)
    """Hash buckets (hashed features only)."""
    model: str | None = None
    """The litellm embedding model (litellm features only)."""


class RouterSection(_Model):
    """The artifact's `router`: what the router needs to route, and what it was trained on."""

    version: int = ROUTER_VERSION
    kind: Literal["knn"] = "knn"
    k: int = Field(ge=1)
    prior: float = Field(DEFAULT_PRIOR, ge=0.0)
    features: Features = Features()
    points: str
    """The fingerprint of the points' assignments it was trained for (`fingerprint`)."""
    split: str
    """Where the training queries came from (`sim seed 3000`, or the dataset's file name)."""
    seed: int = 0
    queries: list[str] = Field(min_length=2)
    """Training query ids, in order."""
    vectors: list[list[tuple[int, float]]]
    """Per training query: its feature vector, as sorted (index, value) pairs of its nonzero entries."""
    correct: list[list[int]]
    """Per training query, per point: 1 when that point's run was right."""
    latency: list[list[float]]
    """Per training query, per point: that run's latency (s)."""
    cv: dict[str, float] = {}
    """Leave-one-out mean objective (over the built-in presets) of each k tried, when k was `auto`."""

    @field_validator("version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version != ROUTER_VERSION:
            raise ValueError(
                f"router version {version} is not one this flowcompile reads ({ROUTER_VERSION}); "
                "retrain it with `flowcompile train-router`"
            )
        return version


# Features ----------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _bucket(token: str, dim: int) -> tuple[int, float]:
    """A token's bucket and sign: crc32 (stable across processes, unlike hash())."""
    h = zlib.crc32(token.encode("utf-8"))
    return h % dim, 1.0 if (h >> 31) & 1 else -1.0


def hashed_features(text: str, dim: int = 1024) -> np.ndarray:
    """Word 1-2-grams and character 3-grams of `text` (lower-cased), hashed into
    `dim` signed buckets with sublinear counts, L2-normalised (zero for no text)."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    tokens = [f"w:{w}" for w in words] + [f"b:{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    padded = f" {' '.join(words)} "
    tokens += [f"c:{padded[i:i + 3]}" for i in range(len(padded) - 2)]
    counts: dict[int, float] = {}
    for token in tokens:
        index, sign = _bucket(token, dim)
        counts[index] = counts.get(index, 0.0) + sign
    v = np.zeros(dim)
    for index, value in counts.items():
        v[index] = math.copysign(1.0 + math.log(abs(value)), value) if value else 0.0
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def embed(texts: Sequence[str], features: Features) -> np.ndarray:
    """One L2-normalised row per text; RouterError when the embedding model fails."""
    if features.kind == "hashed":
        return np.array([hashed_features(t, features.dim) for t in texts]).reshape(len(texts), features.dim)
    try:
        reply = load_litellm().embedding(model=features.model, input=list(texts))
        rows = np.array([item["embedding"] for item in reply["data"]], dtype=float)
    except Exception as e:  # the provider's errors are many; the message is what the user needs
        raise RouterError(f"embedding model {features.model!r} failed: {type(e).__name__}: {str(e)[:300]}") from None
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def parse_features(text: str) -> Features:
    """`hashed`, `hashed:DIM` or `litellm:MODEL`; RouterError otherwise."""
    kind, _, rest = text.partition(":")
    if kind == "hashed":
        if not rest:
            return Features()
        if not rest.isdigit() or not 16 <= int(rest) <= 1 << 20:
            raise RouterError(f"--features {text}: hashed:DIM takes DIM in 16..{1 << 20}")
        return Features(dim=int(rest))
    if kind == "litellm" and rest:
        return Features(kind="litellm", dim=16, model=rest)
    raise RouterError(f"--features {text}: expected hashed, hashed:DIM or litellm:MODEL")


def _sparse(row: np.ndarray) -> list[tuple[int, float]]:
    return [(int(i), round(float(row[i]), 6)) for i in np.flatnonzero(row)]


def fingerprint(assignments: Sequence[Mapping[str, object]]) -> str:
    """sha256 of the points' assignments (as the artifact writes them), in order."""
    text = json.dumps(list(assignments), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


# The model ---------------------------------------------------------------------


@dataclass(frozen=True)
class KnnRouter:
    """A trained router over one compiled set (`section` as stored), with the
    compiled points' estimates and presets for the objective and the fallback."""

    section: RouterSection
    estimates: Sequence[tuple[float, float]]
    presets: Mapping[str, Preference]

    def __post_init__(self) -> None:
        s = self.section
        points = len(self.estimates)
        rows = len(s.queries)
        if len(s.vectors) != rows or len(s.correct) != rows or len(s.latency) != rows:
            raise RouterError(f"router: {rows} queries but {len(s.vectors)} vectors, {len(s.correct)} outcome rows")
        if any(len(r) != points for r in [*s.correct, *s.latency]):
            raise RouterError(f"router: its outcome rows do not have one entry per point ({points} points)")

    @cached_property
    def matrix(self) -> np.ndarray:
        """The training vectors, one row per query."""
        dim = self.section.features.dim
        out = np.zeros((len(self.section.vectors), dim))
        for row, pairs in enumerate(self.section.vectors):
            for index, value in pairs:
                if not 0 <= index < dim:
                    raise RouterError(f"router: vectors[{row}] has index {index} outside 0..{dim - 1}")
                out[row, index] = value
        return out

    @cached_property
    def correct(self) -> np.ndarray:
        return np.array(self.section.correct, dtype=float)

    @cached_property
    def latency(self) -> np.ndarray:
        return np.array(self.section.latency, dtype=float)

    def neighbours(self, vector: np.ndarray, k: int | None = None, exclude: int | None = None) -> np.ndarray:
        """Indices of the k training queries most similar to `vector`, most
        similar first; ties (similarities equal to 1e-9) go to the earlier query."""
        sims = self.matrix @ self._fit(vector)
        order = np.lexsort((np.arange(len(sims)), -np.round(sims, 9)))
        if exclude is not None:
            order = order[order != exclude]
        return order[: k or self.section.k]

    def _fit(self, vector: np.ndarray) -> np.ndarray:
        dim = self.matrix.shape[1]
        if vector.shape[0] >= dim:
            return vector[:dim]
        return np.pad(vector, (0, dim - vector.shape[0]))

    def predict(self, vector: np.ndarray, k: int | None = None, exclude: int | None = None) -> list[tuple[float, float]]:
        """Per point: (success chance, latency) for a query with this feature
        vector: the point's compiled estimate, moved by how much better or worse
        than its own mean the point did on the query's k neighbours (shrunk by
        `prior` pseudo-queries). The level comes from the estimate (profiling and
        validation saw more queries than the routing split); the neighbours only
        say how this query differs, so with every training query as neighbour
        the prediction is the estimate and the router picks the single point."""
        near = np.sort(self.neighbours(vector, k, exclude))  # row order: all rows sum as `keep` does, bit for bit
        shrink = len(near) / (len(near) + self.section.prior)
        keep = np.ones(len(self.correct), dtype=bool)
        if exclude is not None:
            keep[exclude] = False
        est = np.asarray(self.estimates, dtype=float)
        d_acc = self.correct[near].mean(axis=0) - self.correct[keep].mean(axis=0)
        d_lat = self.latency[near].mean(axis=0) - self.latency[keep].mean(axis=0)
        acc = np.clip(est[:, 0] + shrink * d_acc, 0.0, 1.0)
        lat = np.maximum(est[:, 1] + shrink * d_lat, 0.0)
        return [(float(a), float(t)) for a, t in zip(acc, lat, strict=True)]

    def choose(self, vector: np.ndarray, preference: Preference | None, k: int | None = None,
               exclude: int | None = None) -> int:
        """The point `preference` picks for a query with this feature vector;
        SelectionError when no point's estimate meets its constraints at all."""
        fallback = choose(self.estimates, preference)  # also raises when nothing qualifies
        scale = Scale.over(self.estimates, eligible(self.estimates, preference))
        try:
            return choose(self.predict(vector, k, exclude), preference, scale)
        except SelectionError:  # no point's prediction meets the constraints for this query
            return fallback

    def route(self, texts: Sequence[str], selector: Selector) -> list[int]:
        """The point for each of `texts` under `selector`'s preference (its `router` field aside)."""
        preference = preference_of(Selector(None, selector.preset, selector.max_latency, selector.min_acc,
                                            selector.weight), self.presets)
        vectors = embed(texts, self.section.features)
        return [self.choose(v, preference) for v in vectors]


def loo_objective(router: KnnRouter, k: int, preferences: Sequence[Preference]) -> np.ndarray:
    """Per training query, the mean objective over `preferences` of routing it
    by the other queries' outcomes (leave-one-out), on the compiled set's scale."""
    scores = np.zeros(len(router.matrix))
    for preference in preferences:
        scale = Scale.over(router.estimates, eligible(router.estimates, preference))
        weight = preference.weight if preference.weight is not None else 1.0
        for row, vector in enumerate(router.matrix):
            point = router.choose(vector, preference, k, exclude=row)
            scores[row] += scale.score(weight, router.correct[row, point], router.latency[row, point])
    return scores / len(preferences)


SIGNIFICANCE_Z = 1.96
"""`auto` routes with a smaller k only when its leave-one-out objective beats
every-query-as-neighbour's (the single point's) by this many standard errors
of the paired difference: the best of several k on the same queries would
otherwise often be one that fits their noise."""


# Training ----------------------------------------------------------------------


Outcomes = tuple[list[list[int]], list[list[float]]]


def fit(
    texts: Sequence[str],
    ids: Sequence[str],
    outcomes: Outcomes,
    estimates: Sequence[tuple[float, float]],
    presets: Mapping[str, Preference],
    *,
    points: str,
    split: str,
    k: int | Literal["auto"] = "auto",
    prior: float = DEFAULT_PRIOR,
    features: Features = Features(),
    seed: int = 0,
    on_k: Callable[[int, float], None] | None = None,
) -> RouterSection:
    """The router section of per-query `outcomes` (correct, latency: [query][point])
    measured on the training queries `texts` (ids `ids`); k by leave-one-out when `auto`."""
    if len(texts) < 2:
        raise RouterError(f"a router needs at least 2 training queries, got {len(texts)}")
    if len(set(ids)) != len(ids):
        raise RouterError("the training queries have duplicate ids")
    if isinstance(k, int) and k < 1:
        raise RouterError(f"k={k}: must be >= 1")
    vectors = [_sparse(row) for row in embed(texts, features)]
    if features.kind == "litellm":
        features = features.model_copy(update={"dim": max(16, 1 + max(i for pairs in vectors for i, _ in pairs))})
    correct, latency = outcomes
    section = RouterSection(
        k=1, prior=prior, features=features, points=points, split=split, seed=seed, queries=list(ids),
        vectors=vectors, correct=[[int(c) for c in row] for row in correct],
        latency=[[round(float(t), 6) for t in row] for row in latency],
    )
    n = len(texts)
    if k != "auto":
        return section.model_copy(update={"k": min(int(k), n)})
    router = KnnRouter(section, estimates, presets)
    candidates = sorted({c for c in K_GRID if c < n - 1} | {n - 1})
    scores: dict[int, np.ndarray] = {}
    for c in candidates:
        scores[c] = loo_objective(router, c, list(BUILTIN_PRESETS.values()))
        if on_k is not None:
            on_k(c, float(scores[c].mean()))
    everyone = scores[n - 1]
    # ties (to 1e-9) to the larger k: the smoother router, when the data cannot tell them apart
    best = max(candidates, key=lambda c: (round(float(scores[c].mean()), 9), c))
    gain = scores[best] - everyone
    spread = float(gain.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    if best != n - 1 and not float(gain.mean()) > SIGNIFICANCE_Z * spread:
        best = n - 1  # no k routes better than one point beyond the noise of n queries
    chosen = n if best == n - 1 else best  # all the others in leave-one-out: all of them when routing
    cv = {str(c): round(float(v.mean()), 6) for c, v in scores.items()}
    return section.model_copy(update={"k": chosen, "cv": cv})


def run_points(workflow, assignments: Sequence[Mapping[str, object]], backend, queries, *, seed: int,
               concurrency: int, progress: Callable[[int, int], None] | None = None) -> Outcomes:
    """Run every point (its IR assignment) on every query: per-query (correct, latency),
    [query][point]. RouterError when a run fails (a failed run is no outcome to learn from)."""
    total, done = len(assignments) * len(queries), [0]

    def finished(_result: object) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    async def every_point() -> Outcomes:
        correct: list[list[int]] = [[] for _ in queries]
        latency: list[list[float]] = [[] for _ in queries]
        for i, assignment in enumerate(assignments):
            results = await run_many(workflow, dict(assignment), backend, queries, seed=seed,  # pyright: ignore
                                     concurrency=concurrency, on_done=finished)
            failed = [(q.id, r.error) for r, q in zip(results, queries, strict=True) if r.error]
            if failed:
                raise RouterError(f"point {i}: {len(failed)} of {len(queries)} runs failed (first: {failed[0][0]}: "
                                  f"{failed[0][1]}); nothing was trained")
            for row, (result, query) in enumerate(zip(results, queries, strict=True)):
                correct[row].append(int(score(result, query)))
                latency[row].append(float(result.latency))
        return correct, latency

    return asyncio.run(every_point())


# The router of a compiled workflow -----------------------------------------------


def artifact_path(compiled: str) -> str:
    """Where `flowcompile compile` wrote the artifact of `<dir>/<name>.compiled.mlir`."""
    path = Path(compiled)
    stem = path.name.removesuffix(".mlir").removesuffix(".compiled")
    return str(path.with_name(f"{stem}.artifact.json"))


def check_artifact(artifact, module, workflow) -> str:
    """The points' fingerprint, once the artifact is known to be that of this
    compiled workflow and config set; RouterError otherwise."""
    # lazy: cycle: flowcompile/artifact.py imports this module's RouterSection
    from flowcompile.artifact import ArtifactError, from_config_set, workflow_hash

    if artifact.workflow_hash != workflow_hash(workflow):
        raise RouterError(f"the artifact is of another workflow than @{workflow.sym_name.data} "
                          "(its workflow hash differs): compile again, or give its own --artifact")
    try:
        compiled = from_config_set(module)
    except ArtifactError as e:
        raise RouterError(str(e)) from None
    mine = fingerprint([p.model_dump(mode="json")["assign"] for p in compiled.points])
    if fingerprint([p.model_dump(mode="json")["assign"] for p in artifact.points]) != mine:
        raise RouterError("the artifact's points are not this config set's: export it again "
                          "(flowcompile-translate --export-json) or compile again")
    return mine


def load_router(path: str, module, workflow) -> KnnRouter:
    """The router stored in the artifact at `path`, for this compiled workflow;
    RouterError (with the path) when there is none or it is not this set's."""
    # lazy: cycle: flowcompile/artifact.py imports this module's RouterSection
    from flowcompile.artifact import ArtifactError, load

    try:
        artifact = load(path)
    except ArtifactError as e:
        raise RouterError(str(e)) from None
    mine = check_artifact(artifact, module, workflow)
    section = artifact.router
    if section is None:
        raise RouterError(f"{path}: the artifact has no router: train one with `flowcompile train-router "
                          f"COMPILED --artifact {path}`")
    if section.points != mine:
        raise RouterError(f"{path}: its router was trained for other points (it was trained before the set "
                          "was compiled again): train it again with `flowcompile train-router`")
    estimates = [(p.acc, p.lat) for p in artifact.points]
    return KnnRouter(section, estimates, artifact.presets)
