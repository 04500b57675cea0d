"""Run the SIMULATED OpenAI-compatible server in this process until killed.

    python tests/helpers/serve_sim.py [--time-scale S] [--world PATH] [--port N]

Prints the base URL (`http://127.0.0.1:PORT/v1`) on one line of stdout once the
socket is bound, then serves on 127.0.0.1 until SIGTERM/SIGINT. Used by
tests/test_profile_resume.py, which needs the server outside the profiler's
process so that `kill -9` of the profiler leaves the server (and its /stats
counters) running.
"""

from __future__ import annotations

import argparse
import signal
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-scale", type=float, default=0.0)
    parser.add_argument("--world", default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    from flowcompile.sim.server import serve_forever

    def ready(url: str) -> None:
        sys.stdout.write(url + "\n")
        sys.stdout.flush()

    # SIGTERM ends serve_forever like ^C does (its finally closes the socket).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    serve_forever(args.world, "127.0.0.1", args.port, args.time_scale, log=False, on_ready=ready)


if __name__ == "__main__":
    main()
