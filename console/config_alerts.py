"""A profile's alert URL references resolved into an :class:`Alerter`, or refused in words.

Alert URLs carry tokens, so the config holds references (``env:``, ``secret:``,
``file:``). One that does not resolve — or reads a value Apprise cannot send to — must
stop ``automate`` and ``alert-test`` with a sentence that names the profile, the URL's
number and reference and what to write instead, never the value. Kept apart from
``config.py`` (which turns the error into its ``ConfigError``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from console.automation.alerts import Alert, AlertConfigError, Alerter, resolve_ref
from console.automation.config import AlertsConfig


def profile_alerter(
    cfg: AlertsConfig,
    *,
    where: str,
    secrets_path: Path | None,
    secrets: Callable[[], Mapping[str, Any]],
    base: Path,
    env: Mapping[str, str],
    clock: Callable[[], float],
    profile: str,
    local: Callable[[Alert], None] | None = None,
) -> Alerter:
    """The alerter for ``cfg``; :class:`AlertConfigError` whose words start with ``where``
    (``config.toml: profile 'prod'``) when a reference cannot be used."""
    read = secrets() if any(r.startswith("secret:") for r in cfg.urls) else {}
    urls = []
    for i, ref in enumerate(cfg.urls):
        try:
            urls.append(resolve_ref(ref, env, read, base))
        except AlertConfigError as exc:
            raise AlertConfigError(
                f"{where}, alerts: URL #{i + 1} ({ref}): {exc}; {_instead(ref, secrets_path)}"
            ) from None
    alerter = Alerter(cfg, urls, clock=clock, profile=profile, local=local)
    for n in alerter.bad_urls:
        raise AlertConfigError(
            f"{where}, alerts: URL #{n} ({cfg.urls[n - 1]}): the value it reads is not a URL "
            "Apprise can send to; write an Apprise URL there (e.g. json://host/path, "
            "slack://…, ntfy://…)"
        )
    return alerter


def _instead(ref: str, secrets_path: Path | None) -> str:
    """What to write so that ``ref`` resolves."""
    kind, _, key = ref.partition(":")
    if kind == "env":
        return f"set it (export {key}='json://…') or use secret:SECTION.KEY"
    if kind == "secret":
        section, _, item = key.partition(".")
        if secrets_path is None:
            return (f'set secrets_file in the profile and write [{section}] {item or "KEY"} = '
                    '"<apprise URL>" in it')  # fmt: skip
        return f'write [{section}] {item or "KEY"} = "<apprise URL>" in {secrets_path}'
    return "write the Apprise URL alone in that file, readable by you only (chmod 600)"
