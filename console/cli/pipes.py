"""Output to a reader that may leave: ``status --json | head`` must end quietly.

When the reader of stdout (or stderr) goes away, Python raises BrokenPipeError on the
next write, and again at exit when it flushes, with a traceback. For a command that acts
(a kill piped to ``head``) an exception in a print would also cut the work short. So
while a command runs, stdout and stderr are wrapped: after the reader leaves, what
follows is dropped (the file descriptor is pointed at /dev/null, so the interpreter's
final flush is quiet too), the command runs to its end and exits with its own code.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from typing import TextIO, cast


class PipeSafe(io.TextIOBase):
    """A text stream that drops what is written after its reader has gone."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._drop()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8") or "utf-8"

    def _drop(self) -> None:
        self.reader_gone = True
        silence(self.stream)


def silence(stream: TextIO) -> None:
    """Point ``stream``'s file descriptor at /dev/null: what is still buffered, and the
    interpreter's flush at exit, go nowhere instead of raising BrokenPipeError again."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not a file (a test's capture): nothing to flush at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextlib.contextmanager
def pipe_safe_stdio() -> Iterator[None]:
    """stdout and stderr wrapped in PipeSafe while the block runs, then flushed."""
    saved = sys.stdout, sys.stderr
    out, err = PipeSafe(sys.stdout), PipeSafe(sys.stderr)
    sys.stdout, sys.stderr = cast(TextIO, out), cast(TextIO, err)
    try:
        yield
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr = saved
