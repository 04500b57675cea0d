"""Child processes of the tests."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen, grace_s: float = 30.0) -> None:
    """Terminate `process`, and kill it if it outlives `grace_s` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace_s)
