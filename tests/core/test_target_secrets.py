"""A credential a venue echoes into what it lists never reaches the store."""

from __future__ import annotations

from console.core.model import State, Target, TargetKind
from console.core.scrub import Scrubber
from console.core.store import Store
from console.core.target_secrets import without_secrets

KEY = "pk_live_5f0c2d9e8b7a41c3"


def target(tid: str, name: str, raw: str = "deployed") -> Target:
    return Target("v", TargetKind.STRATEGY, tid, name, State.RUNNING, raw)


def test_clean_targets_come_back_as_they_were() -> None:
    listed = [target("1", "BTC grid"), target("2", "ETH DCA")]
    assert without_secrets(listed, Scrubber([KEY])) is listed


def test_a_name_or_status_holding_a_credential_is_masked_in_any_of_its_forms() -> None:
    scrubber = Scrubber([KEY, "user:pa55word!"])
    listed = [target("1", f"{KEY} BTC grid"), target("2", "ETH DCA", f"paused {KEY}"),
              target("3", "user%3Apa55word%21 SOL"), target("4", "clean")]  # fmt: skip
    masked = without_secrets(listed, scrubber)
    assert [t.name for t in masked] == ["*** BTC grid", "ETH DCA", "*** SOL", "clean"]
    assert masked[1].raw_status == "paused ***"
    assert masked[3] is listed[3]  # untouched where nothing was found


def test_the_store_masks_what_it_is_given_by_every_path() -> None:
    store = Store()
    store.mask_with("v", Scrubber([KEY]))
    store.snapshot("v", [target("1", f"{KEY} one")])
    store.upsert([target("2", f"two {KEY}")])
    store.patch("v", "1", raw_status=f"{KEY}!")
    assert {t.name for t in store.targets("v")} == {"*** one", "two ***"}
    one = store.get("v", "1")
    assert one is not None and one.raw_status == "***!"
    other = Store()  # a venue with no scrubber registered: kept as given
    other.snapshot("w", [Target("w", TargetKind.STRATEGY, "1", KEY, State.RUNNING, "x")])
    assert [t.name for t in other.targets("w")] == [KEY]


def test_text_attributes_are_masked_too() -> None:
    """A venue echoing its key into a ticker put it in ``status --json`` and on the
    sniper panel: names alone were masked."""
    store = Store()
    store.mask_with("v", Scrubber([KEY]))
    attrs = {"ticker": f"{KEY}NVDA", "symbols": ("BTC", f"x{KEY}"), "pnl": 1.5, "n": 3}
    store.snapshot("v", [Target("v", TargetKind.SNIPER, "1", "clean", State.RUNNING, "ACTIVE",
                                attrs)])  # fmt: skip
    (stored,) = store.targets("v")
    assert stored.attrs == {"ticker": "***NVDA", "symbols": ("BTC", "x***"), "pnl": 1.5, "n": 3}
    clean = Target("v", TargetKind.SNIPER, "2", "c", State.RUNNING, "ACTIVE", {"ticker": "AAPL"})
    assert without_secrets([clean], Scrubber([KEY]))[0] is clean


def test_a_streams_patched_texts_are_masked_too() -> None:
    """A stream patches a row's attributes (PipAI's P&L comes as a string): only its
    status word was masked."""
    store = Store()
    store.mask_with("v", Scrubber([KEY]))
    store.snapshot("v", [target("1", "clean")])
    store.patch("v", "1", attrs={"pnl": f"12.5 {KEY}", "open_positions": 2})
    one = store.get("v", "1")
    assert one is not None and one.attrs == {"pnl": "12.5 ***", "open_positions": 2}
