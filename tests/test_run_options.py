"""`run`, `evaluate` and `serve` take `--concurrency`, `--timeout` and `--retries`
as the `profile` pass does: its ranges, checked with the option's name before
any input is read, and passed on to the backend and the runtime."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
import pytest

from flowcompile import api
from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.backends.litellm_backend import LiteLLMBackend
from flowcompile.backends.middleware import RetryingBackend
from flowcompile.passes.registry import option_bound
from flowcompile.tools.cli import cli, run_cli

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("run", "evaluate", "serve")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("options")
    code = run_cli(["compile", str(ROOT / "examples" / "chain.yaml"), "-o", str(folder), "--cache", "none",
                    "--samples", "6", "--max-samples", "0", "--no-validate", "--no-recovery"])
    assert code == 0
    return folder / "chain.compiled.mlir"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("option", ["concurrency", "timeout", "retries"])
def test_the_options_take_the_profile_pass_range(command: str, option: str) -> None:
    param = next(p for p in cli.commands[command].params if p.name == option)
    assert isinstance(param.type, click.IntRange | click.FloatRange)
    bound = option_bound("profile", option)
    assert bound is not None
    assert (param.type.min, param.type.max, param.type.min_open) == (bound.low, bound.high, bound.low_open)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("flag", "value", "shown"),
    [("--concurrency", "0", "0 is not in the range x>=1"), ("--retries", "0", "0 is not in the range x>=1"),
     ("--timeout", "-1", "-1.0 is not in the range x>=0"), ("--concurrency", "many", "'many' is not a valid integer")],
)
def test_a_bad_value_names_the_option_and_is_status_1(
    command: str, flag: str, value: str, shown: str, compiled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli([command, str(compiled), flag, value]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: invalid value for '{flag}': {shown}") and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("options", "message"),
    [({"concurrency": 0}, "option concurrency=0: must be >= 1"), ({"retries": 0}, "option retries=0: must be >= 1"),
     ({"timeout": -2.5}, "option timeout=-2.5: must be >= 0"), ({"concurrency": True}, "option concurrency=True")],
)
def test_the_api_checks_them_too(options: dict[str, float], message: str, compiled: Path) -> None:
    workflow = api.load_ir(compiled)
    for call in (lambda: api.run(workflow, 0, "q?", **options),  # pyright: ignore[reportArgumentType]
                 lambda: api.evaluate(workflow, samples=2, **options)):  # pyright: ignore[reportArgumentType]
        with pytest.raises(api.FlowCompileError, match=f"^error: {message}"):
            call()


def test_retries_and_timeout_reach_the_backend() -> None:
    sim = api.make_backend("sim", retries=2)
    assert isinstance(sim, RetryingBackend) and sim.max_attempts == 2
    remote = api.make_backend("litellm", timeout=7.5, retries=3)
    assert isinstance(remote, RetryingBackend) and remote.max_attempts == 3
    assert isinstance(remote.inner, LiteLLMBackend) and remote.inner.timeouts.fixed == 7.5
    assert api.make_backend("litellm").inner.timeouts.fixed == 0.0  # pyright: ignore[reportAttributeAccessIssue]


class _Counting:
    """A backend that answers after a yield, counting calls in flight (one loop: exact)."""

    name = "counting"

    def __init__(self) -> None:
        self.in_flight = self.most = self.calls = 0

    async def call(self, request: CallRequest) -> CallResult:
        self.in_flight += 1
        self.calls += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        self.in_flight -= 1
        return CallResult(text="ANSWER: 1", latency_s=0.1, tokens_in=1, tokens_out=1)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_concurrency_bounds_the_queries_run_at_once(
    concurrency: int, compiled: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = _Counting()
    monkeypatch.setattr(api, "make_backend", lambda *a, **k: backend)
    # the chain calls its agents one after another, so calls in flight = queries in flight
    assert run_cli(["run", str(compiled), "--samples", "6", "--concurrency", str(concurrency)]) == 0
    assert backend.most == concurrency and backend.calls > 6
    backend.most = 0
    code = run_cli(["evaluate", str(compiled), "--samples", "5", "--points", "0", "--no-baselines",
                    "--concurrency", str(concurrency)])
    assert code == 0, capsys.readouterr().err
    assert backend.most == concurrency
