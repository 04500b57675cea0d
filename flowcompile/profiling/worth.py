"""What resolving a configuration is worth to the frontier: the hypervolume a
drawn "true" frontier would add to the proxy's.

Adaptive profiling asks, after each round, which candidates are still worth
queries. Under a posterior draw of the measured rates, the proxy's own
frontier (its configurations, scored as the draw has them) falls short of the
draw's frontier by the area of the configurations it misses. A configuration
the proxy's frontier misses is worth, per draw, the share of the draw's
frontier hypervolume that adding it to the proxy's frontier gains, averaged
over the draws: the expected loss from leaving it out. A candidate is worth what
the missed configurations that resolving it could bring in are worth
together.

Membership is not all a frontier is for: deployment reads its estimates.
`loose` names the frontier configurations whose estimate the draws still
move by more than a stated precision, so their candidates are measured until
the numbers hold.

This is a regret, not a membership count. Two near-twin configurations that
swap places from draw to draw are each on some fronts and not others, but
adding the missing twin beside the present one gains almost nothing: their
candidates drop out of play once the twins are told apart to within what
matters, not when their order is known.

The most accurate point of a front holds no area of its own (the corner is at
its latency), yet which configuration tops the front is what a user asks
first: a missed configuration that tops a draw's front above everything the
proxy's frontier reaches there is worth, where that is more, the share of
the accuracy range it adds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flowcompile.proxy import hypervolume_2d

Configuration = tuple[tuple[str, int], ...]
"""A configuration as sorted (variable, choice) pairs."""

Scored = tuple[Configuration, float, float]
"""A configuration with its (acc, t) under some draw."""


@dataclass(frozen=True)
class Draw:
    """One posterior draw: its own frontier, and the proxy's frontier's
    configurations scored under it."""

    front: Sequence[Scored]
    nominal: Sequence[Scored]


def missed(draws: Sequence[Draw]) -> set[Configuration]:
    """The configurations on some draw's frontier and not on the proxy's."""
    return {key for d in draws for key, _, _ in d.front} - {key for d in draws for key, _, _ in d.nominal}


def worth(draws: Sequence[Draw], credited: Callable[[Configuration], Iterable[Hashable]]) -> dict[Hashable, float]:
    """What resolving each thing `credited` names for a missed configuration
    (its candidates, say) is worth: per draw, the share of the draw's
    frontier hypervolume that adding the missed configurations it is
    credited with to the proxy's frontier gains, together (overlapping areas
    count once: a cluster of near-equal configurations is one gain, not
    many), or the share of the accuracy range it adds on top, where that is
    more; averaged over all the draws."""
    points = [p for d in draws for p in (*d.front, *d.nominal)]
    if not points:
        return {}
    # widened by a hair so the slowest and least accurate points hold an area
    ref_acc = min(acc for _, acc, _ in points) - 1e-3
    ref_lat = max(t for *_, t in points) * 1.001 + 1e-9
    found: dict[Hashable, float] = {}
    for draw in draws:
        best = _hv(draw.front, ref_acc, ref_lat)
        if best <= 0:
            continue
        have = {key for key, _, _ in draw.nominal}
        groups: dict[Hashable, list[Scored]] = {}
        for point in draw.front:
            if point[0] not in have:
                for name in credited(point[0]):
                    groups.setdefault(name, []).append(point)
        base = _hv(draw.nominal, ref_acc, ref_lat)
        reached = max((acc for _, acc, _ in draw.nominal), default=ref_acc)
        top = max(draw.front, key=lambda p: (p[1], -p[2]))
        for name, group in groups.items():
            gain = (_hv([*draw.nominal, *group], ref_acc, ref_lat) - base) / best
            if top in group and top[1] > reached:
                gain = max(gain, (top[1] - reached) / (top[1] - ref_acc))
            found[name] = found.get(name, 0.0) + gain / len(draws)
    return found


def loose(draws: Sequence[Draw], precision: float) -> list[Configuration]:
    """The proxy's frontier configurations whose accuracy, scored under the
    draws, spreads by at least `precision` (a standard deviation)."""
    scores: dict[Configuration, list[float]] = {}
    for draw in draws:
        for key, acc, _ in draw.nominal:
            scores.setdefault(key, []).append(acc)
    return [key for key, accs in scores.items() if len(accs) > 1 and float(np.std(accs)) >= precision]


def blockers(nominal: Sequence[Scored], estimates: Mapping[Configuration, tuple[float, float]]) -> dict[Configuration, Configuration]:
    """For each configuration of `estimates` (nominal (acc, t), off the proxy's
    frontier `nominal`), the frontier point that keeps it off: the slowest one
    at most as slow, which is the most accurate of those (a frontier, sorted
    by latency, rises in accuracy)."""
    ordered = sorted(nominal, key=lambda p: (p[2], -p[1]))
    found = {}
    for key, (acc, t) in estimates.items():
        faster = [p for p in ordered if p[2] <= t and p[1] >= acc]
        if faster:
            found[key] = faster[-1][0]
    return found


def _hv(points: Sequence[Scored], ref_acc: float, ref_lat: float) -> float:
    return hypervolume_2d([acc for _, acc, _ in points], [t for *_, t in points], ref_acc, ref_lat)
