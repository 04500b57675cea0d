"""A failed call is never a measurement: injected faults over HTTP with the litellm backend.

`flowcompile-opt -p 'profile{backend=litellm ...}'` runs in a subprocess against the
simulated OpenAI-compatible server (in this process, on loopback), whose fault rates
each test sets. The guarantees checked:

* 20 % faults: retries absorb them; the profiles equal a clean run's (latency, the
  client's wall clock around each call, is masked: it differs between any two live runs);
* 50 % faults: the profiles equal a clean run's, or the exit is 1 and names the lost
  calls; then a rerun on the same cache repeats no finished call;
* 100 % faults and a dead port: exit 1 with the provider's message, nothing measured,
  no secret in any message or file.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowcompile.sim import SimWorld, generate_dataset, write_jsonl
from flowcompile.sim.server import SimHTTPServer
from flowcompile.sim.world import FaultSpec
from flowcompile.tools.common import guard_main
from flowcompile.tools.opt import run
from helpers.profiling import EXAMPLES, cache_rows, one_summary, pointed_at, profiles, serving, stats

pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning", "ignore:coroutine.*never awaited")

OPT = Path(sys.executable).with_name("flowcompile-opt")
QUERIES = 6
CANARY = "sk-canary-0123456789abcdef"
LATENCY = re.compile(r"\b(lat|lat_p95|lat_max|lat_q) = (\[[^\]]*\]|[-0-9.e]+)")


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[SimHTTPServer, str]]:
    with serving(time_scale=0.0) as served:
        yield served


def set_faults(srv: SimHTTPServer, **rates: float) -> None:
    """Give the running server these fault rates (the others 0) and restart its counters."""
    sim = srv.state.sim
    sim.world = sim.world.model_copy(update={"faults": FaultSpec(**rates)})
    srv.state.reset()


def small_chain(url: str) -> str:
    """examples/chain.mlir with 2 models x 2 budgets per agent (fewer calls), pointed at `url`."""
    text = pointed_at((EXAMPLES / "chain.mlir").read_text(), url)
    text, n = re.subn(r"models = \[[^\]]*\], budgets = \[[^\]]*\]",
                      'models = ["qwen3-0.6b", "qwen3-8b"], budgets = [0, 4096]', text)
    assert n == 3
    return text


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory, server: tuple[SimHTTPServer, str]) -> dict[str, Path | str]:
    _, url = server
    folder = tmp_path_factory.mktemp("faults")
    source = folder / "chain.mlir"
    source.write_text(small_chain(url))
    dataset = write_jsonl(folder / "dataset.jsonl", generate_dataset(SimWorld(), QUERIES, 0))
    return {"source": source, "dataset": dataset, "dir": folder, "url": url}


@pytest.fixture(scope="module")
def clean(case: dict, server: tuple[SimHTTPServer, str]) -> str:
    """The IR of a run without faults."""
    set_faults(server[0])
    rc, err, ir = profile(case, "clean", "clean.sqlite")
    assert rc == 0, err
    assert one_summary(err)["failures"] == 0
    return ir


def profile(
    case: dict, name: str, cache: str, extra: str = "", source: Path | None = None, *, separate: bool = False
) -> tuple[int, str, str]:
    """(exit status, stderr, output IR or "") of one profiling run: in this process
    (litellm is imported once; the machine may be slow), or with `separate` as
    the installed `flowcompile-opt` in a subprocess."""
    out = Path(case["dir"]) / f"{name}.mlir"
    options = (
        f'backend=litellm dataset="{case["dataset"]}" cache="{Path(case["dir"]) / cache}" '
        f"concurrency=4 max-samples=0 recovery=false {extra}"
    )
    args = [str(source or case["source"]), "-o", str(out), "-p", f"profile{{{options}}}"]
    if separate:
        env = {**os.environ, "HOSTED_VLLM_API_KEY": CANARY}
        proc = subprocess.run([str(OPT), *args], capture_output=True, text=True, timeout=600, env=env)
        rc, err = proc.returncode, proc.stderr
    else:
        stream, saved, key = io.StringIO(), sys.stderr, os.environ.get("HOSTED_VLLM_API_KEY")
        os.environ["HOSTED_VLLM_API_KEY"] = CANARY
        sys.stderr = stream
        try:
            rc = guard_main("flowcompile-opt", lambda: run(args))
        finally:
            sys.stderr = saved
            if key is None:
                os.environ.pop("HOSTED_VLLM_API_KEY", None)
            else:
                os.environ["HOSTED_VLLM_API_KEY"] = key
        err = stream.getvalue()
    return rc, err, out.read_text() if out.exists() and rc == 0 else ""


def masked(ir: str) -> str:
    """The IR with every latency value replaced (the client's wall clock)."""
    return LATENCY.sub(lambda m: f"{m[1]} = _", ir)


def test_20_percent_faults_are_absorbed_by_retries(case, server, clean) -> None:
    srv, url = server
    set_faults(srv, rate_limit=0.1, server_error=0.1)
    rc, err, ir = profile(case, "faulty", "faulty.sqlite")
    assert rc == 0, err
    served = stats(url)["by_status"]
    assert served.get("429", 0) > 0 and served.get("500", 0) > 0, served  # faults did happen
    summary = one_summary(err)
    assert summary["retries"] > 0 and summary["failures"] == 0
    assert "warning" not in err
    assert masked(ir) == masked(clean)
    assert profiles(ir).keys() == profiles(clean).keys()


def test_50_percent_faults_give_the_clean_result_or_exit_1_naming_the_lost_calls(case, server, clean) -> None:
    srv, url = server
    set_faults(srv, rate_limit=0.5)
    cache = Path(case["dir"]) / "half.sqlite"
    rc, err, ir = profile(case, "half", "half.sqlite", "retries=3")
    if rc == 0:
        assert masked(ir) == masked(clean)
    else:
        assert rc == 1, err
        assert "profiling stopped" in err and "lost: " in err, err
        assert re.search(r"lost: (run q\d+|@\w+ [\w.-]+@\d+ on q\d+)", err), err
        assert "Traceback" not in err, err
    # A rerun, faults gone, resumes: every finished call is a cache hit, none is repeated.
    finished = cache_rows(cache)
    set_faults(srv)
    rc2, err2, ir2 = profile(case, "half-rerun", "half.sqlite", "retries=3")
    assert rc2 == 0, err2
    summary = one_summary(err2)
    assert summary["hits"] == finished and summary["made"] == summary["calls"] - finished
    assert all(n == 1 for n in stats(url)["by_content"].values())  # nothing asked twice
    assert masked(ir2) == masked(clean)


def test_100_percent_faults_stop_with_the_providers_message(case, server) -> None:
    srv, url = server
    set_faults(srv, rate_limit=1.0)
    rc, err, ir = profile(case, "dead", "dead.sqlite", "retries=2", separate=True)  # the real exit status
    assert rc == 1 and ir == ""
    first = next(line for line in err.splitlines() if ": error: " in line)
    assert re.match(r".*chain\.mlir:\d+:\d+: error: profile: profiling stopped: ", first), err
    assert "simulated rate_limit" in first  # the server's own words
    assert "rerun to resume" in first
    assert "Traceback" not in err and CANARY not in err
    assert cache_rows(Path(case["dir"]) / "dead.sqlite") == 0  # nothing failed was stored


def test_a_dead_port_stops_with_the_connection_error(case, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = tmp_path / "dead-port.mlir"
    source.write_text(small_chain(f"http://127.0.0.1:{port}/v1"))
    rc, err, _ = profile(case, "port", "port.sqlite", "retries=1", source=source)
    assert rc == 1, err
    assert "profiling stopped" in err and "server_error" in err
    assert re.search(r"(?i)connect", err), err  # the transport's message, not a bare kind
    assert CANARY not in err


def test_tolerated_losses_are_named_and_not_measured(case, server) -> None:
    """With a threshold that tolerates them, lost calls are named and left out of acc_n."""
    srv, _ = server
    set_faults(srv, rate_limit=0.5)
    rc, err, ir = profile(case, "tolerant", "tolerant.sqlite", "retries=1 max-failures=1.0")
    assert rc == 0, err
    lost = re.findall(r"warning: @(\w+) ([\w.-]+@\d+): (\d+) of (\d+) calls failed", err)
    assert lost, err
    got = profiles(ir)
    for agent, config, failed, calls in lost:
        if int(failed) < int(calls):  # measured on the others: acc_n counts real measurements only
            assert got[agent][config]["acc_n"] <= int(calls) - int(failed), (agent, config)
        else:  # nothing measured: no profile, and the agent says why
            assert config not in got[agent]
            assert f'"{config}" = "{failed} of {calls} calls failed' in ir
    assert CANARY not in ir and CANARY not in err


def test_no_file_written_holds_the_key(case, server) -> None:
    """Every file the runs above wrote (caches, IR), and a failing run's, is free of the key."""
    srv, _ = server
    set_faults(srv, server_error=1.0)
    rc, err, _ = profile(case, "canary", "canary.sqlite", "retries=1")
    assert rc == 1 and CANARY not in err
    written = [p for p in Path(case["dir"]).rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in written) and any(p.suffix == ".mlir" for p in written)
    for path in written:
        assert CANARY.encode() not in path.read_bytes(), path


def test_a_key_named_by_api_key_env_reaches_no_file(case, server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool whose models name their key variable (`api_key_env`): the key, read from a
    variable without a key-like name, is in no IR, cache or message of a clean run."""
    srv, _ = server
    set_faults(srv)
    secret = "canary-named-variable-0123456789"
    monkeypatch.setenv("FC_TEST_SERVER_KEY", secret)
    source = Path(case["dir"]) / "named-key.mlir"
    text = Path(case["source"]).read_text()
    text, n = re.subn(r'(#flow\.model<provider = "[^"]*", api_base = "[^"]*")>', r'\1, api_key_env = "FC_TEST_SERVER_KEY">', text)
    assert n > 0
    source.write_text(text)
    rc, err, ir = profile(case, "named-key", "named-key.sqlite", source=source)
    assert rc == 0, err
    assert 'api_key_env = "FC_TEST_SERVER_KEY"' in ir and "#flow.profile" in ir
    assert secret not in err and secret not in ir
    for path in Path(case["dir"]).rglob("named-key*"):
        assert secret.encode() not in path.read_bytes(), path
