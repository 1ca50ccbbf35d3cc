"""A terminal that goes away while calls run: the calls run to their end, to nobody.

An SSH connection that drops, a tmux server or a terminal window closed: the kernel
sends the processes of that terminal SIGHUP, whose default ends them at once. Mid-kill
that is the worst end there is: the calls not yet sent are never sent (half the book
still trading), those sent are never answered, verified or journaled — and the operator,
back at a new terminal, cannot know which. Nobody asked for it to end; the terminal was
lost by accident. So while a plan's calls run (a kill, a stop, a scheduled stop run from
the screen) the console survives it: :func:`detach_terminal` points its output at
/dev/null (every later write succeeds, to nobody — a write to the hung-up terminal
fails), the calls are answered, verified and journaled as if the terminal were there,
a journal note says what happened (:data:`HANGUP_NOTE`), and then the process ends with
:data:`EXIT_HANGUP`, as a shell reports a command ended by SIGHUP. SIGTERM is a request to
end (a supervisor, ``kill``): it keeps its default.

Why in core: the CLI's commands and the screen both lose their terminal; this is the one
package both import, and it holds neither a screen nor a vendor.
"""

from __future__ import annotations

import os
import signal

from console.core.journal import Journal

EXIT_HANGUP = 128 + signal.SIGHUP
"""129: the terminal hung up; what ran when it did ran to its end (the journal has it)."""
HANGUP_NOTE = "hangup"
"""The action of the journal's note that a terminal hung up while calls ran."""

_never_written: list[int] = []  # the write end of stdin's pipe, kept open for good


def detach_terminal(*, stdin: bool = False) -> None:
    """stdout and stderr to /dev/null; with ``stdin``, stdin from a pipe nothing writes to:
    waiting for it to be readable waits (an end of file would be readable at once: the
    screen's input thread would spin on it), and a read that comes anyway fails at once
    with EAGAIN (the pipe does not block), never waits forever. Called again, it does the
    same again."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            os.dup2(null, fd)
    finally:
        os.close(null)
    if stdin and not _never_written:
        read, write = os.pipe()
        os.set_blocking(read, False)
        _never_written.append(write)
        os.dup2(read, 0)
        os.close(read)


def note_hangup(journal: Journal, running: str, after: str) -> None:
    """The journal's word that the terminal hung up while ``running`` ran, and what the
    console does about it (``after``): whoever reads the journal next sees why the
    console ended and that its calls were not cut short."""
    journal.note(
        journal.operator.user,
        "*",
        "",
        "",
        HANGUP_NOTE,
        f"the terminal hung up (SIGHUP) while {running} ran: {after}",
    )
