"""The browser session's login against a real nats-server: a refusal is said in NATS's
words without the password, the password field is emptied, and nothing is attached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from console.core.session import SessionOptions
from console.desk.local_server import LocalNats
from console.web.login import LoginApp
from tests.desk.support import PROFILE, local_nats


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[LocalNats]:
    yield from local_nats(tmp_path)


async def test_a_wrong_password_is_refused_in_words_and_the_field_emptied(
    nats_server: LocalNats,
) -> None:
    wrong = "not-alices-password"
    app = LoginApp(nats_server.url, SessionOptions(profile=PROFILE, label="SIM"), host="here")
    async with app.run_test() as pilot:
        await pilot.press(*"alice", "enter", *wrong, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.return_value is None and not app.handing_off
        assert len(app.refusals) == 1
        why = app.refusals[0]
        # NATS's words (desk_link's: "refused user 'alice': Authorization Violation"; a
        # reset connection is sometimes all nats-py reports of it)
        assert why.startswith("Not attached as alice: ") and "Check the user and password" in why
        assert wrong not in why
        assert app.query_one("#password", Input).value == ""
        assert app.focused is app.query_one("#password", Input)


async def test_a_user_that_cannot_be_a_subject_token_is_not_sent(
    nats_server: LocalNats,
) -> None:
    app = LoginApp(nats_server.url, SessionOptions(profile=PROFILE, label="SIM"), host="here")
    async with app.run_test() as pilot:
        await pilot.press("enter", "enter")  # nothing typed
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.refusals == ["Type your NATS user (letters, digits, _ and -)."]


async def test_keys_typed_at_once_after_enter_go_to_the_password(nats_server: LocalNats) -> None:
    """A browser sends keys as fast as they are typed (or pasted): the ones after the
    user's Enter are the password's, whenever the app gets to them."""
    app = LoginApp(nats_server.url, SessionOptions(profile=PROFILE, label="SIM"), host="here")
    async with app.run_test() as pilot:
        for char in "alice\rpw-1":  # all queued before the app handles the first
            key = "enter" if char == "\r" else ("minus" if char == "-" else char)
            app.post_message(events.Key(key, char))
        await pilot.pause()
        assert app.query_one("#user", Input).value == "alice"
        assert app.query_one("#password", Input).value == "pw-1"
