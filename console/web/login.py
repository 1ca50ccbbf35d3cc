"""The browser session's first screen: the operator's NATS user and password for the desk.

A browser gets nothing from the desk before this: the session attaches as the user
typed here (:func:`~console.desk.desk_console.open_desk`), so the hub journals that user
and the NATS server enforces what that user may do. The password is masked, kept only
in the input until the attempt, cleared after a refusal, and never written anywhere:
not to the screen, a log, the command line or the environment (it reaches this process
as keystrokes on its stdin).
"""

from __future__ import annotations

import re
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.driver import Driver
from textual.widgets import Input, Static

from console.cli import desk_link
from console.cli.desk_link import DeskAddress, DeskFailure
from console.core.session import SessionOptions
from console.desk.desk_console import open_desk
from console.desk.desk_control import DeskControl
from console.desk.desk_state import DeskState

USER = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A NATS user that can be a subject token (the desk's command subjects carry it)."""

Attached = tuple[DeskState, DeskControl]


class LoginApp(App[Attached | None]):
    """Asks for the desk credentials; exits with the attached desk (or None: the browser
    left, or the operator quit)."""

    TITLE = "trading-console: desk login"
    CSS = """
    Screen { align: center middle; }
    #login { width: 60; height: auto; border: round $primary; padding: 1 2; }
    #login Input { margin: 1 0 0 0; }
    #why { margin: 1 0 0 0; height: auto; }
    #why.refused { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        # Before the inputs see it, so the keys typed after it go where it moved the focus
        # (an Input's own submit is a message, handled after keys already queued).
        Binding("enter", "next_or_log_in", "Log in", priority=True),
    ]

    def __init__(
        self,
        url: str,
        options: SessionOptions,
        *,
        host: str,
        driver_class: type[Driver] | None = None,
    ) -> None:
        super().__init__(driver_class=driver_class)
        self.url = url
        self.options = options
        self.host = host
        self.handing_off = False
        """Set when the console follows on this connection (the driver reads it)."""
        self.refusals: list[str] = []
        """What each refused attempt said (the tests read it)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="login"):
            yield Static(
                f"{self.options.label} · profile {self.options.profile}\n"
                f"Desk {desk_link.safe_url(self.url)}\nLog in as your NATS user.",
                id="where",
                markup=False,
            )
            yield Input(placeholder="NATS user", id="user", restrict=r"[A-Za-z0-9_-]*")
            yield Input(placeholder="password", id="password", password=True)
            yield Static("", id="why", markup=False)

    def on_mount(self) -> None:
        self.query_one("#user", Input).focus()

    def action_next_or_log_in(self) -> None:
        user = self.query_one("#user", Input)
        if self.focused is user and not self.query_one("#password", Input).value:
            # At once (Widget.focus waits for the queue, where the next keys already are).
            self.screen.set_focus(self.query_one("#password", Input))
            return
        self.attempt()

    @work(exclusive=True)
    async def attempt(self) -> None:
        user_input, password_input = (
            self.query_one("#user", Input),
            self.query_one("#password", Input),
        )
        user, password = user_input.value.strip(), password_input.value
        if not USER.fullmatch(user):
            self._refuse("Type your NATS user (letters, digits, _ and -).", user_input)
            return
        if not password:
            self._refuse("Type your password.", password_input)
            return
        user_input.disabled = password_input.disabled = True
        self._say(f"Attaching to the desk as {user}…", error=False)
        desk = DeskAddress(self.url, self.options.profile, user,
                           {"user": user, "password": password}, (password,))  # fmt: skip
        try:  # the server's refusal in its words, at once (open_desk would keep retrying)
            await (await desk_link.connect(desk)).close()
            attached = await open_desk(self.url, self.options, user=user, auth=desk.auth,
                                       host=self.host)  # fmt: skip
        except DeskFailure as exc:
            why = str(exc)
        except TimeoutError:
            why = f"the desk at {desk_link.safe_url(self.url)} did not answer in time"
        except Exception as exc:
            why = desk.safe(str(exc) or type(exc).__name__)
        else:
            self.handing_off = True
            self.exit(attached)
            return
        why = desk.safe(why)
        password_input.value = ""
        user_input.disabled = password_input.disabled = False
        self._refuse(
            f"Not attached as {user}: {why}\nCheck the user and password, or ask whoever "
            "runs the desk whether its server and hub are up.",
            password_input,
        )

    def _refuse(self, why: str, focus: Input) -> None:
        self.refusals.append(why)
        self._say(why, error=True)
        focus.focus()

    def _say(self, text: str, *, error: bool) -> None:
        why = self.query_one("#why", Static)
        why.set_class(error, "refused")
        why.update(text)
