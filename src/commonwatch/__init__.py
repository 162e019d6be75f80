"""Commonwatch: open operations platform for community safety."""

__version__ = "0.1.0"
