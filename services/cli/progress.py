"""Progress on stderr for what takes a while (a long audit chain, waiting for routing), so that
stdout stays the result a script reads."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """On a terminal one line rewritten in place; elsewhere (a log, CI) a line at most every
    ``every`` seconds, the first after ``every`` seconds, so a long run shows it is alive
    without flooding the log and a short one says nothing."""

    def __init__(
        self, stream: TextIO | None = None, every: float = 2.0, quiet: bool = False
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self.quiet = quiet
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = time.monotonic()
        self._shown = False

    def update(self, text: str, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if self.live:
            self.stream.write("\r\x1b[2K" + text)
            self.stream.flush()
            self._shown = True
        elif force or now - self._last >= self.every:
            self.stream.write(text + "\n")
            self.stream.flush()
            self._last = now

    def done(self) -> None:
        """Clears the rewritten line, so what follows starts at the left edge."""
        if self.live and self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._shown = False
