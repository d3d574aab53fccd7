"""The root of every localcore error."""

from __future__ import annotations


class LocalcoreError(Exception):
    """Base class for localcore errors; subclasses carry structured fields."""
