"""Themes shipped with trading-console (installed as the package ``console.themes``)."""
