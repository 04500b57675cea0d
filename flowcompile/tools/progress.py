"""Progress on stderr for the commands' long steps; stdout is left to results.

`Bar` counts finished units (evaluate's runs): a bar on a terminal, a line at
each quarter otherwise, so a log stays short. `Stages` names each step of a
command as it starts (compile: profiling, then search and validation) and,
while one runs, says every `interval` seconds that it still does, since
validation reports nothing until it ends.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any


class Bar:
    """`update(done, total)` drawn as a bar on a terminal, else as quarter lines."""

    def __init__(self, title: str, stream: IO[str] | None = None):
        self.title = title
        self.stream = stream or sys.stderr
        self.bar: Any = None
        self.task: Any = None
        self.logged: set[int] = set()

    def __enter__(self) -> Bar:
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import Progress

            # The bar draws on stderr, never on stdout where the results go.
            self.bar = Progress(console=Console(file=self.stream), transient=True)
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, done: int, total: int) -> None:
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task(self.title, total=total)
            self.bar.update(self.task, completed=done, total=total)
            return
        quarter = 4 * done // max(1, total)
        if quarter not in self.logged:
            self.logged.add(quarter)
            self.stream.write(f"{self.title}: {done}/{total} runs\n")
            self.stream.flush()


class Stages:
    """`start(text)` writes `title: text`; a step still running after each
    `interval` seconds gets `title: text (still running, 2m00s)`."""

    def __init__(self, title: str, stream: IO[str] | None = None, interval: float = 60.0):
        self.title = title
        self.stream = stream or sys.stderr
        self.interval = interval
        self.current = ""
        self.started = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Stages:
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def start(self, text: str) -> None:
        with self._lock:
            self.current, self.started = text, time.monotonic()
            self._write(f"{self.title}: {text}")

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self.current:
                    minutes, seconds = divmod(int(time.monotonic() - self.started), 60)
                    self._write(f"{self.title}: {self.current} (still running, {minutes}m{seconds:02d}s)")

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
