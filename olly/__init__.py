"""Olly: a self-hostable health insurance platform."""

__version__ = "0.1.0"
