"""Blueprints (being written)."""

from __future__ import annotations

from .scaffold import Scaffold


class Blueprint(Scaffold):
    """Placeholder."""
