"""Peers of FlowCompile: black-box multi-objective search and a per-query router.

Black-box methods see the workflow as a function from a configuration to its
end-to-end (accuracy, latency) on the profiling set, and pay for every distinct
backend call their evaluations make (a configuration re-proposed costs nothing
again, as with a cache). `search` runs one method until its next evaluation
would exceed the call budget and returns every trial with the calls spent so
far, so the state at any smaller budget is a prefix of the same run (none of
these methods knows its budget in advance).

Methods: random search, Optuna's NSGAIISampler and TPESampler (multi-objective),
pymoo's NSGA-II (ask and tell, integer-coded). Optuna and pymoo are the
`bench` extra, imported here only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from _measure import Table
from _space import Config, Space

METHODS = ("random", "optuna-nsga2", "optuna-tpe", "pymoo-nsga2")
POPULATION = 16


@dataclass(frozen=True)
class Trial:
    config: Config
    acc: float
    lat: float
    calls: int
    """Distinct backend calls spent after this trial."""


Tell = Callable[[Config, float, float], None]


def _random(space: Space, seed: int) -> Iterator[tuple[Config, Tell | None]]:
    rng = np.random.default_rng(seed)
    configs = list(space.all())
    for i in rng.permutation(len(configs)):
        yield configs[i], None


def _optuna(space: Space, seed: int, sampler_name: str) -> Iterator[tuple[Config, Tell | None]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler_name == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed, population_size=POPULATION)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    while True:
        trial = study.ask()
        config = tuple(
            int(trial.suggest_categorical(key, list(range(len(labels)))))
            for key, labels in zip(space.keys, space.labels, strict=True)
        )

        def tell(_: Config, acc: float, lat: float, trial=trial) -> None:
            study.tell(trial, [acc, lat])

        yield config, tell


def _pymoo(space: Space, seed: int) -> Iterator[tuple[Config, Tell | None]]:
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.problems.static import StaticProblem

    problem = Problem(n_var=len(space.keys), n_obj=2, xl=0, xu=np.array(space.arity) - 1, vtype=int)
    algorithm = NSGA2(
        pop_size=POPULATION,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    algorithm.setup(problem, termination=("n_gen", 10**9), seed=seed, verbose=False)
    while True:
        population = algorithm.ask()
        objectives = []
        for x in population.get("X"):
            config = tuple(int(round(v)) for v in x)
            result: list[tuple[float, float]] = []
            yield config, lambda _, acc, lat, result=result: result.append((acc, lat))
            objectives.append((-result[0][0], result[0][1]))
        Evaluator().eval(StaticProblem(problem, F=np.array(objectives)), population)
        algorithm.tell(infills=population)


def proposals(method: str, space: Space, seed: int) -> Iterator[tuple[Config, Tell | None]]:
    if method == "random":
        return _random(space, seed)
    if method == "optuna-nsga2":
        return _optuna(space, seed, "nsga2")
    if method == "optuna-tpe":
        return _optuna(space, seed, "tpe")
    if method == "pymoo-nsga2":
        return _pymoo(space, seed)
    raise ValueError(f"unknown method {method}")


def search(method: str, profiling: Table, budget: int, seed: int) -> list[Trial]:
    """One run of `method` on the profiling set, within `budget` distinct calls."""
    spent: set[str] = set()
    trials: list[Trial] = []
    idle = 0
    for config, tell in proposals(method, profiling.space, seed):
        (outcome,) = profiling.measure([config])
        new = profiling.calls[config] - spent
        if len(spent) + len(new) > budget:
            break
        spent |= new
        # A method that only re-proposes what it has seen has converged.
        idle = 0 if new else idle + 1
        if idle > 4 * POPULATION:
            break
        if tell is not None:
            tell(config, outcome.acc, outcome.lat)
        trials.append(Trial(config, outcome.acc, outcome.lat, len(spent)))
    return trials


# A RouteLLM-style router between a cheap and a strong configuration --------------

FEATURES = 512


def features(text: str) -> np.ndarray:
    """Hashed character 3-grams, L2-normalised: a query embedding that needs no model."""
    import zlib

    v = np.zeros(FEATURES)
    padded = f"  {text.lower()}  "
    for i in range(len(padded) - 2):
        v[zlib.crc32(padded[i : i + 3].encode()) % FEATURES] += 1.0
    norm = np.linalg.norm(v)
    return v / norm if norm else v


@dataclass(frozen=True)
class Router:
    """Routes a query to the strong configuration when its predicted gain
    (strong right and cheap wrong, minus the reverse) is among the top `share`
    of the profiling queries'."""

    weights: np.ndarray
    train_scores: np.ndarray

    @staticmethod
    def fit(texts: Sequence[str], cheap_correct: np.ndarray, strong_correct: np.ndarray) -> Router:
        x = np.array([features(t) for t in texts])
        y = strong_correct.astype(float) - cheap_correct.astype(float)
        ridge = 1.0
        w = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)
        return Router(w, x @ w)

    def strong(self, texts: Sequence[str], share: float) -> np.ndarray:
        """Which queries go to the strong configuration at this trade-off."""
        scores = np.array([features(t) for t in texts]) @ self.weights
        if share <= 0:
            return np.zeros(len(texts), dtype=bool)
        if share >= 1:
            return np.ones(len(texts), dtype=bool)
        threshold = np.quantile(self.train_scores, 1.0 - share)
        return scores >= threshold
