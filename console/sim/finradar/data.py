"""Reference data the simulated FinRadar world is drawn from: tickers, filers, forms.

Tickers are in FinRadar's canonical hyphen form (``BRK-A``); the CIKs are the issuers'
SEC numbers so that generated filing links look like the real EDGAR ones.
"""

from __future__ import annotations

from typing import Final

# ticker -> issuer CIK (10 digits, zero padded, as the webhook payload writes it)
TICKERS: Final[dict[str, str]] = {
    "AAPL": "0000320193",
    "MSFT": "0000789019",
    "NVDA": "0001045810",
    "TSLA": "0001318605",
    "AMZN": "0001018724",
    "META": "0001326801",
    "GOOGL": "0001652044",
    "BRK-A": "0001067983",
    "BRK-B": "0001067983",
    "JPM": "0000019617",
    "XOM": "0000034088",
    "NFLX": "0001065280",
    "AMD": "0000002488",
    "INTC": "0000050863",
    "DIS": "0001744489",
    "BA": "0000012927",
    "COIN": "0001679788",
    "PLTR": "0001321655",
    "GME": "0001326380",
    "SMCI": "0001375365",
    "WMT": "0000104169",
    "KO": "0000021344",
    "PFE": "0000078003",
    "UNH": "0000731766",
}

# Names a demo should show first.
HEADLINE: Final[tuple[str, ...]] = ("AAPL", "TSLA", "BRK-A", "NVDA", "MSFT", "AMZN", "META")

# Form-type filters a user typically sets on a sniper; None means "any filing".
FORM_FILTERS: Final[tuple[list[str] | None, ...]] = (
    None,
    ["8-K"],
    ["10-K"],
    ["10-Q"],
    ["10-Q", "8-K"],
    ["4"],
    ["SC 13D", "SC 13G"],
    ["10-K", "10-Q", "8-K"],
    ["S-1"],
    ["DEF 14A"],
)

# Form types a filing_hit can report when the sniper had no filter.
ANY_FORMS: Final[tuple[str, ...]] = ("8-K", "4", "10-Q", "SC 13G", "6-K", "424B2")

WEBHOOKS: Final[tuple[str | None, ...]] = (
    None,
    None,
    "https://hooks.harborview-capital.example/finradar/sniper",
    "https://alerts.northwind-trading.example/webhooks/filings",
)

BASE62: Final[str] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
