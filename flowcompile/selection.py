"""Choosing one point of a compiled Pareto set: the one rule `run`, `select`,
`serve` and `flowcompile.api` share.

A request names at most one of: a point index, a preset, or a preference
(`max_latency`, `min_acc`, `weight`, alone or together). A preference may be
routed (`router: knn`): then `flowcompile.router` applies these same rules
query by query, to each point's predicted (acc, lat) for that query, on the
compiled set's scale (`Scale`), so a preset means one objective either way. A preset is a named
preference: the built-in ones below, or a workflow's own (`presets:` in the
spec, `presets` on `flow.workflow`, `presets` in the JSON artifact).

Over the points' estimates (accuracy `acc`, latency `lat`):

* `max_latency`: the most accurate point within the latency budget;
* `min_acc`: the fastest point that reaches the accuracy target;
* both: the most accurate point meeting both;
* `weight` w in [0, 1]: among the points the constraints leave, the one
  maximising `w * acc' - (1 - w) * lat'`, acc and latency rescaled to [0, 1]
  over those points (w = 1: the most accurate, w = 0: the fastest);
* nothing: the most accurate point (never silently the slowest or a cheap one).

Ties go to the faster point, then the lower index. The built-in presets are
weights, so that on any Pareto set fast <= balanced <= accurate in both latency
and accuracy (a larger weight never picks a less accurate point):

* `accurate`, w = 1: the most accurate point;
* `balanced`, w = 0.5: the knee, the point farthest above the straight line
  from the fastest to the most accurate point (in rescaled units);
* `fast`, w = 0.25: the fast end of the set; it takes a slower point only
  for at least three times as much accuracy as latency (in rescaled units,
  where `balanced` asks as much of one as of the other).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, ValidationError, model_validator

ROUTERS = ("knn",)
"""The per-query routers a selection may name (`flowcompile.router`)."""
PRESET_KEYS = ("max_latency", "min_acc", "weight")
"""The fields of a preset, as the spec, the IR and the artifact spell them."""


class Preference(BaseModel):
    """A named preset: which compiled point `run --preset NAME`, `select --preset NAME` and
    `serve` (`X-FlowCompile-Preset: NAME`) pick. Give one or more of its fields; they mean what
    the options of the same name mean."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    max_latency: NonNegativeFloat | None = Field(
        None, description="The most accurate point whose estimated latency (s) is at most this."
    )
    min_acc: float | None = Field(
        None, ge=0.0, le=1.0, description="The fastest point whose estimated accuracy is at least this."
    )
    weight: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Accuracy weight: the point maximising `weight * acc - (1 - weight) * latency`, both "
        "rescaled to [0, 1] over the points the other fields leave (1: most accurate, 0: fastest).",
    )

    @model_validator(mode="after")
    def _something(self) -> Preference:
        if self.max_latency is None and self.min_acc is None and self.weight is None:
            raise ValueError(f"a preset gives at least one of {', '.join(PRESET_KEYS)}")
        return self

    def describe(self) -> str:
        """`max_latency=5 weight=0.5`: the fields given."""
        return " ".join(f"{key}={value:g}" for key, value in self.model_dump(exclude_none=True).items())


BUILTIN_PRESETS: Mapping[str, Preference] = {
    "fast": Preference(weight=0.25),
    "balanced": Preference(weight=0.5),
    "accurate": Preference(weight=1.0),
}


class SelectionError(ValueError):
    """A request that names no point: a bad or conflicting selector, or one nothing meets."""


@dataclass(frozen=True)
class Selector:
    """What one request asks for; at most one of point, preset and preference."""

    point: int | None = None
    preset: str | None = None
    max_latency: float | None = None
    min_acc: float | None = None
    weight: float | None = None
    router: str | None = None
    """`knn`: the point is chosen per query (`flowcompile.router`) under the
    preference the other fields name; None: one point for every query."""

    def describe(self) -> str:
        """How the point was chosen, for messages and logs (`preset fast`, `router knn, preset fast`)."""
        if self.router is not None:
            return f"router {self.router}, " + replace(self, router=None).describe()
        if self.point is not None:
            return f"point {self.point}"
        if self.preset is not None:
            return f"preset {self.preset}"
        given = {k: v for k, v in self.preference_fields().items() if v is not None}
        return " ".join(f"{k}={v:g}" for k, v in given.items()) or "default (most accurate)"

    def preference_fields(self) -> dict[str, float | None]:
        return {"max_latency": self.max_latency, "min_acc": self.min_acc, "weight": self.weight}


def presets_with_builtins(presets: Mapping[str, Preference]) -> dict[str, Preference]:
    """The built-in presets and a workflow's own; SelectionError when one of its
    own takes a built-in name (a preset means the same in every artifact)."""
    for name in presets:
        if name in BUILTIN_PRESETS:
            raise SelectionError(f"preset '{name}' is built in ({', '.join(BUILTIN_PRESETS)}); name yours differently")
    return {**BUILTIN_PRESETS, **presets}


def preference_of(selector: Selector, presets: Mapping[str, Preference]) -> Preference | None:
    """The preference `selector` names (None: the default, most accurate);
    SelectionError on a conflict, an unknown preset or a value out of range."""
    fields = selector.preference_fields()
    if selector.router is not None and selector.point is not None:
        raise SelectionError("router and point both choose a point: give one of them")
    named = [k.replace("_", "-") for k, v in {"point": selector.point, "preset": selector.preset, **fields}.items()
             if v is not None]
    if len(named) > 1 and not set(named) <= {"max-latency", "min-acc", "weight"}:
        raise SelectionError(f"{named[0]} and {named[1]} both choose a point: give one of them")
    if selector.preset is not None:
        known = presets_with_builtins(presets)
        if selector.preset not in known:
            close = difflib.get_close_matches(selector.preset, list(known), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise SelectionError(f"unknown preset '{selector.preset}'{hint} (presets: {', '.join(known)})")
        return known[selector.preset]
    if not any(v is not None for v in fields.values()):
        return None
    try:
        return Preference(**fields)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        key = str(first["loc"][0])
        raise SelectionError(f"{key.replace('_', '-')}={first['input']!r}: {first['msg'][:1].lower()}{first['msg'][1:]}") from None


@dataclass(frozen=True)
class Scale:
    """How `weight` rescales accuracy and latency to [0, 1]: from the lowest
    value over a span (a zero span counts as 1, so equal values score equal)."""

    low_acc: float
    acc_span: float
    low_lat: float
    lat_span: float

    @staticmethod
    def over(estimates: Sequence[tuple[float, float]], indices: Sequence[int] | None = None) -> Scale:
        """The scale of `estimates` (those at `indices`, by default all)."""
        rows = [estimates[i] for i in (range(len(estimates)) if indices is None else indices)]
        accs, lats = [a for a, _ in rows], [lat for _, lat in rows]
        return Scale(min(accs), (max(accs) - min(accs)) or 1.0, min(lats), (max(lats) - min(lats)) or 1.0)

    def score(self, weight: float, acc: float, lat: float) -> float:
        """The `weight` objective: `weight * acc' - (1 - weight) * lat'`, rescaled."""
        return weight * (acc - self.low_acc) / self.acc_span - (1 - weight) * (lat - self.low_lat) / self.lat_span


def meets(preference: Preference, acc: float, lat: float) -> bool:
    """Whether (acc, lat) meets the preference's `max_latency` and `min_acc`."""
    return (preference.max_latency is None or lat <= preference.max_latency) and (
        preference.min_acc is None or acc >= preference.min_acc
    )


def eligible(estimates: Sequence[tuple[float, float]], preference: Preference | None) -> list[int]:
    """The indices of the points that meet the preference's constraints."""
    pref = preference or Preference(weight=1.0)
    return [i for i, (acc, lat) in enumerate(estimates) if meets(pref, acc, lat)]


def choose(
    estimates: Sequence[tuple[float, float]], preference: Preference | None, scale: Scale | None = None
) -> int:
    """The index of the point `preference` picks among `estimates` ((acc, lat)
    per point); the module docstring has the rules. `scale` fixes the weight's
    rescaling (the router scores one query's predictions on the compiled set's
    scale, so that its objective is the single point's, query by query); by
    default it is that of the points the constraints leave. SelectionError
    when no point meets the constraints."""
    if not estimates:
        raise SelectionError("the config set has no points")
    pref = preference or Preference(weight=1.0)
    chosen = eligible(estimates, pref)
    if not chosen:
        accs, lats = [a for a, _ in estimates], [lat for _, lat in estimates]
        raise SelectionError(
            f"no point meets the request (max latency {pref.max_latency}, min accuracy {pref.min_acc}); "
            f"points span acc {min(accs):g}..{max(accs):g}, latency {min(lats):g}..{max(lats):g} s"
        )
    if pref.weight is not None:
        weight = pref.weight
        rescale = scale or Scale.over(estimates, chosen)
        return max(chosen, key=lambda i: (rescale.score(weight, *estimates[i]), -estimates[i][1], -i))
    if pref.max_latency is not None or pref.min_acc is None:
        return max(chosen, key=lambda i: (estimates[i][0], -estimates[i][1], -i))
    return min(chosen, key=lambda i: (estimates[i][1], -estimates[i][0], i))


def select(
    estimates: Sequence[tuple[float, float]], selector: Selector, presets: Mapping[str, Preference] | None = None
) -> int:
    """The index of the point `selector` names among `estimates` ((acc, lat)
    per point), with the workflow's own `presets` beside the built-in ones."""
    preference = preference_of(selector, presets or {})
    if selector.point is None:
        return choose(estimates, preference)
    if not 0 <= selector.point < len(estimates):
        raise SelectionError(
            f"no point {selector.point}: the config set has {len(estimates)} points (0..{len(estimates) - 1})"
        )
    return selector.point
