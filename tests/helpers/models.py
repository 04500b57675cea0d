"""Random proxy models composed query by query, shared by the tests of the joint rules."""

from __future__ import annotations

import numpy as np

from flowcompile.proxy import model as pm


def sigmoid(x: np.ndarray | float):
    return 1.0 / (1.0 + np.exp(-x))


def _agent(name: str, inputs, rng, n: int, difficulty, downstream: bool, gates=()) -> pm.Agent:
    """An agent with n choices right w.p. sigmoid(ability - difficulty) per query;
    downstream, also from a wrong input, less tied to the difficulty."""
    ability = rng.normal(0.5, 1.0, n)
    hits = tuple(sigmoid(a - difficulty) for a in ability)
    rec = tuple(sigmoid(a - 1.5 - rng.uniform(0, 1) * difficulty) for a in ability) if downstream else ()
    return pm.Agent(
        pm.Var(name, tuple(range(n))), tuple(inputs), tuple(float(h.mean()) for h in hits),
        tuple(rng.uniform(1, 20, n)), (0.0,) * n,
        recovery=tuple(float(r.mean()) for r in rec) if downstream else 0.0,
        rejects=tuple(float(r.mean()) for r in rec) if name == "critic" else (),
        gates=tuple(gates), hits=hits, hits_k=0, rec_hits=rec,
    )


def refine_loop_model(rng: np.random.Generator, queries: int = 16) -> pm.Loop:
    """A random draft-critique-revise loop with modeled rates per query."""
    difficulty = rng.normal(0.0, 1.5, queries)
    query = pm.Input()
    drafter = _agent("drafter", (query,), rng, 4, difficulty, False)
    carried = pm.Carried("final")
    critic = _agent("critic", (query, carried), rng, 3, difficulty, True)
    reviser = _agent("reviser", (query, carried), rng, 3, difficulty, True, gates=(critic,))
    return pm.Loop("final", drafter, carried, critic, reviser, pm.Var("final.max_iters", (1, 2, 3)))
