"""The SIMULATED world backend: seeded, deterministic stand-ins for LLM sub-agents.

Everything here is a simulation, labelled as such wherever it shows: a world
file (`DEFAULT_WORLD`, a Qwen3 dense pool; `correlated_world_path()` the same
pool with other interaction parameters) sets model skill, speed and price;
`SimWorld` answers chat requests through a text protocol (see
`flowcompile.sim.engine`); `SimBackend` serves it in process and
`flowcompile.sim.server` over an OpenAI-compatible loopback HTTP server.
"""

from __future__ import annotations

from pathlib import Path

from flowcompile.sim.world import (
    FaultSpec,
    ModelSpec,
    QuerySpec,
    ReasoningCurve,
    RoleSpec,
    World,
    WorldError,
    correlated_world_path,
    default_world_path,
    load_world,
    parse_world,
)

from flowcompile.sim.engine import SimTrace, SimWorld, content_hash, generate_dataset, read_jsonl, write_jsonl
from flowcompile.sim.protocol import build_messages, format_tag, system_line

#: The packaged default world file (simulated Qwen3 dense pool).
DEFAULT_WORLD: Path = default_world_path()

__all__ = [
    "DEFAULT_WORLD",
    "FaultSpec",
    "ModelSpec",
    "QuerySpec",
    "ReasoningCurve",
    "RoleSpec",
    "SimTrace",
    "SimWorld",
    "World",
    "WorldError",
    "build_messages",
    "content_hash",
    "correlated_world_path",
    "default_world_path",
    "format_tag",
    "generate_dataset",
    "load_world",
    "parse_world",
    "read_jsonl",
    "system_line",
    "write_jsonl",
]
