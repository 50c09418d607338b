"""Eligibility: the fast path. Its own coverage read model, kept current from enrollment events."""
