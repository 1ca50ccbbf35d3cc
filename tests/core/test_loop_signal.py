"""A signal taken for the loop is given back as it was (core/loop_signal.py): asyncio's
own removal leaves the default, which lost the demo desk's hang-up handler (it stops the
desk's NATS server) once the screen had run; an ignored signal (``nohup``) is left."""

from __future__ import annotations

import asyncio
import signal

from console.core.loop_signal import LoopSignal


def taken_then_given_back() -> bool:
    """SIGHUP taken on a running loop (as a hang-up guard takes it), then given back."""

    async def run() -> bool:
        sighup = LoopSignal(signal.SIGHUP, lambda: None, unless_ignored=True)
        taken = sighup.take()
        sighup.give_back()
        return taken

    return asyncio.run(run())


def test_the_handler_it_replaced_is_restored() -> None:
    def before(signum: int, frame: object) -> None: ...

    previous = signal.signal(signal.SIGHUP, before)
    try:
        assert taken_then_given_back()
        assert signal.getsignal(signal.SIGHUP) is before
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_an_ignored_signal_is_left_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        assert not taken_then_given_back()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
