"""The desk's protocol on NATS: every subject, bucket, stream and key name, and the reference.

A desk is one hub per profile (``trading-console hub``) and any number of consoles and
CLI commands attached to it through a NATS server (or cluster) with JetStream on. The
hub alone logs in to the venues, paces, polls or streams, dispatches and journals; the
others read what it publishes and send it requests. This module is the reference both
sides are written against: this module holds the names (subjects, the bucket and its keys,
the streams, the verbs) and :mod:`console.desk.messages` the message models named below
(pydantic, as JSON; a message over 64 KB goes as ``z`` + zlib, so a kill of thousands of
targets fits a server's ``max_payload``); nothing in either opens a connection. ``P``
below is the profile name, ``U`` an operator's NATS user name (both :func:`token`-checked).

**State.** JetStream key-value bucket ``desk_P`` (:func:`bucket`), written by the hub only:

- ``t.<venue>.<b64url target id>`` (:func:`target_key`) → :class:`TargetMsg`; a target
  gone from its venue is deleted from the bucket;
- ``h.<venue>`` (:func:`health_key`) → :class:`HealthMsg`;
- ``v.<venue>`` → :class:`VenueMsg` (the venue's API kind, so a console builds its
  ``VenueView`` from the profile's own venue settings with the registry's client class:
  planning never calls a venue, so no login happens on the console);
- ``run`` → :class:`RunningMsg` while a plan runs (deleted when it ends);
- ``lease`` (:data:`LEASE_KEY`) → the :class:`HubBeat` of the hub that may act: the one
  hub per profile is whoever holds this lease (``console.desk.lease``: taken with a
  create or a revision-conditional update, renewed every second, expired when nobody
  sees it renewed for 3 s; a standby hub waits on it);
- ``r.<id>`` → a re-arm request waiting for a second operator
  (``console.desk.rearm.RearmMsg``; deleted once decided or expired), also told on
  ``desk.P.rearm`` as it is posted, decided or expires.

A console that attaches reads the whole bucket (or watches it), then follows
``desk.P.state``: one :class:`StateBatch` per hub tick with what changed (targets, gone,
health; cut into several batches when one would not fit a NATS message, as a resync of a
large profile). Each batch carries ``seq``, consecutive per hub run (``hub_id``); a
console that sees a gap or a new ``hub_id`` re-reads the bucket. The hub publishes the
whole state when it starts (``Hub.start`` returns after) and again after each NATS
reconnect.

**Commands.** Request/reply on ``desk.P.cmd.U.<verb>`` (:func:`command_subject`, verbs in
:class:`Verb`). The operator's identity is the ``U`` token, and the NATS server enforces
it: user ``alice`` may publish only ``desk.P.cmd.alice.<verb>`` for the verbs of her
role (:mod:`console.desk.roles`; a production desk configures the same), so the hub
journals the authenticated user, never a self-declared one. A command must be a
request whose reply subject is under its user's own inbox (``_INBOX.U.``,
:mod:`console.desk.connect`); anything else (a plain publish, a reply aimed at another
operator) is refused unanswered and journaled as a ``note``. The request's
``host``/``ssh_client`` say where the operator sits (shown and journaled as the host
columns, as the OS reports them locally). Every reply is a :class:`CommandReply`: a
``batch_id``, or ``refused`` in words (nothing was sent).

- ``dispatch`` (:class:`DispatchRequest`): a frozen :class:`PlanMsg`; refused while
  another plan runs (the local console's *busy*), so two operators' actions on one
  target are serialised; refused (and journaled) when it resumes or starts a target a
  kill halted: that is ``rearm``'s;
- ``kill`` (:class:`KillRequest`): the kill's frozen plan. One kill per desk: a kill sent
  while one runs *joins* it (reply: the running batch id, ``joined`` true; no call is
  sent twice); a kill sent while an ordinary plan runs waits for it, then runs;
- ``reverify`` (:class:`ReverifyRequest`) and ``verify-interrupted``
  (:class:`VerifyInterruptedRequest`): answered when done, with their results in
  ``CommandReply.data``;
- ``skip`` (:class:`SkipRequest`): skip a schedule's next run (the hub's automation);
- ``checkin`` (:class:`CheckinRequest`): an operator is here (the dead-man timer);
- ``rearm`` (:class:`RearmRequest`, admin): a plan of resumes and starts, the only way
  back for a target a kill halted; with two-person re-arm on it waits for ``approve``
  (:class:`ApproveRequest`) from another operator (:mod:`console.desk.rearm`).

**Results.** ``desk.P.batch.<batch_id>`` (:func:`batch_subject`) carries
:class:`BatchEvent` s: ``results`` — the results (:class:`ResultMsg`'s fields, read straight
into the core's ``ItemResult``) that came in since the last event (each result as its
outcome arrives, again once verified; up to 200 an event) — then one
``report`` (:class:`ReportMsg`) at the end, which carries only the results the events did
not carry as they are (a reader merges the two). They are also kept in the
JetStream stream ``DESK_P_EVENTS`` (:func:`events_stream`, one day), so a console that
learns the batch id from the reply (or joins a kill) replays the batch from its start.
``desk.P.activity`` carries one :class:`ActivityMsg` per action for every console
("bob@desk-2: stop x3algo RSI Momentum — applied"), in the same stream; the lines told
since the last message travel together, in order, as one :class:`ActivityBatch` (up to
500 lines a message: a kill's outcomes are a few messages, not one per target).

**Journal.** JetStream stream ``DESK_P_JOURNAL`` (:func:`journal_stream`) on
``desk.P.journal``, created with ``deny_delete`` and ``deny_purge`` (replicated in a
cluster): one :class:`JournalRowMsg` per row of the hub's local SQLite journal, the same
columns and the same hash chain (``console.core.journal_chain``), ``seq`` as there;
message id ``<profile>:<seq>`` so a row mirrored twice is stored once.

**Liveness.** ``desk.P.hub`` carries a :class:`HubBeat` every second (:data:`BEAT_S`);
a console that hears none for :data:`DOWN_AFTER_S` shows DESK DOWN, and the CLI says the
hub is unreachable when a request finds no responder (NATS answers that at once). One
hub per profile: the ``lease`` key decides (above); ``desk.P.hub.who`` (:func:`who_subject`)
is answered by the serving hub with its beat (the CLI asks it).
"""

from __future__ import annotations

import base64
import re
from enum import StrEnum

BEAT_S = 1.0
"""The hub's heartbeat period on ``desk.P.hub``."""
DOWN_AFTER_S = 3.0
"""No heartbeat for this long: the console shows DESK DOWN."""
EVENTS_MAX_AGE_S = 24 * 3600.0

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class ProtocolError(ValueError):
    """A name cannot be a subject token, or a message does not parse."""


def token(name: str) -> str:
    """``name`` as one subject token (profile, user): letters, digits, ``_`` and ``-``."""
    if not _TOKEN.fullmatch(name):
        raise ProtocolError(
            f"{name!r} cannot name a desk subject: use letters, digits, '_' and '-' only"
        )
    return name


# ----- names ------------------------------------------------------------------------------
def bucket(profile: str) -> str:
    return f"desk_{token(profile)}"


def journal_stream(profile: str) -> str:
    return f"DESK_{token(profile)}_JOURNAL"


def events_stream(profile: str) -> str:
    return f"DESK_{token(profile)}_EVENTS"


def root(profile: str) -> str:
    return f"desk.{token(profile)}"


def state_subject(profile: str) -> str:
    return f"{root(profile)}.state"


def hub_subject(profile: str) -> str:
    return f"{root(profile)}.hub"


def who_subject(profile: str) -> str:
    """Request/reply: the running hub answers with a :class:`HubBeat` (a second hub
    asks before it starts; NATS answers "no responders" at once when there is none)."""
    return f"{root(profile)}.hub.who"


def activity_subject(profile: str) -> str:
    return f"{root(profile)}.activity"


def journal_subject(profile: str) -> str:
    return f"{root(profile)}.journal"


def batch_subject(profile: str, batch_id: str) -> str:
    return f"{root(profile)}.batch.{token(batch_id)}"


def command_subject(profile: str, user: str, verb: Verb | str) -> str:
    return f"{root(profile)}.cmd.{token(user)}.{Verb(verb).value}"


def parse_command_subject(profile: str, subject: str) -> tuple[str, Verb]:
    """(user, verb) of a command subject; ProtocolError when it is not one."""
    prefix = f"{root(profile)}.cmd."
    rest = subject[len(prefix) :] if subject.startswith(prefix) else ""
    user, _, verb = rest.partition(".")
    try:
        return token(user), Verb(verb)
    except ValueError:
        raise ProtocolError(f"not a command subject of {profile!r}: {subject!r}") from None


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def target_key(venue: str, target_id: str) -> str:
    return f"t.{token(venue)}.{_b64(target_id)}"


def parse_target_key(key: str) -> tuple[str, str]:
    _, venue, encoded = key.split(".", 2)
    return venue, _unb64(encoded)


def health_key(venue: str) -> str:
    return f"h.{token(venue)}"


def venue_key(venue: str) -> str:
    return f"v.{token(venue)}"


RUNNING_KEY = "run"
LEASE_KEY = "lease"


class Verb(StrEnum):
    DISPATCH = "dispatch"
    KILL = "kill"
    REVERIFY = "reverify"
    VERIFY_INTERRUPTED = "verify-interrupted"
    SKIP = "skip"
    CHECKIN = "checkin"
    REARM = "rearm"
    APPROVE = "approve"
