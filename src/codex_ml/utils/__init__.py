"""Helpers shared by the catalogue's components. Importing this package imports no third-party library."""

from __future__ import annotations
