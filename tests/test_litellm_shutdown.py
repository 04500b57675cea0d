"""litellm's async HTTP clients are closed with the event loop that made them: a
process that called the sim server through the litellm backend, over several
`asyncio.run`s as `compile` does, exits without a ResourceWarning."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowcompile.sim import SimWorld, generate_dataset
from helpers.profiling import serving

WARNINGS = ("ResourceWarning", "unclosed", "Unclosed")

CALLS = """\
import asyncio, sys
from flowcompile.backends.base import CallRequest, Message
from flowcompile.backends.litellm_backend import LiteLLMBackend
request = CallRequest(model="qwen3-8b", provider_model="hosted_vllm/qwen3-8b", api_base=sys.argv[1],
                      api_key_env="none", messages=(Message("user", "[sim-query q00001] Solve it."),))
for _ in range(3):  # a loop each, as profile, validate and evaluate each run one
    result = asyncio.run(LiteLLMBackend(timeout=30).call(request))
    assert result.error is None, result.text
print("ok")
"""


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(time_scale=0.0) as (_, base):
        yield base


def stderr_of(args: list[str], cwd: Path) -> str:
    # -W default shows every ResourceWarning (they are ignored by default)
    proc = subprocess.run([sys.executable, "-W", "default", *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stderr


def test_calls_on_several_loops_leave_no_open_client(url: str, tmp_path: Path) -> None:
    err = stderr_of(["-c", CALLS, url], tmp_path)
    assert not [line for line in err.splitlines() if any(w in line for w in WARNINGS)], err[-3000:]


def test_a_compile_against_the_sim_server_exits_without_warnings(url: str, tmp_path: Path) -> None:
    spec = tmp_path / "w.yaml"
    spec.write_text(f"""\
workflow: w
models:
  qwen3-0.6b: {{litellm: hosted_vllm/qwen3-0.6b, api_base: "{url}", api_key_env: none}}
  qwen3-8b: {{litellm: hosted_vllm/qwen3-8b, api_base: "{url}", api_key_env: none}}
agents:
  solver: {{role: solver, prompt: "Solve.\\n{{query}}"}}
steps: [solver]
""")
    dataset = tmp_path / "data.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in generate_dataset(SimWorld(), 6, 0)))
    cli = [str(Path(sys.executable).with_name("flowcompile"))]
    err = stderr_of([*cli, "compile", str(spec), "--backend", "litellm", "--dataset", str(dataset), "--samples", "3",
                     "--validation-samples", "3", "--max-samples", "0", "--cache", str(tmp_path / "cache.sqlite"), "-o", str(tmp_path / "out")],
                    tmp_path)
    assert (tmp_path / "out" / "w.compiled.mlir").exists()
    assert not [line for line in err.splitlines() if any(w in line for w in WARNINGS)], err[-3000:]
