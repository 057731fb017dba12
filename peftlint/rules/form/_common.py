"""Helpers shared by the form rules."""

from __future__ import annotations
