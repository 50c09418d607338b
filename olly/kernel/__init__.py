"""Shared vocabulary of every domain: money, ids, time, periods and typed errors. No I/O here."""
