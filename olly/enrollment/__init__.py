"""Enrollment: policies, coverage terms, covered people and every change to them, effective-dated."""
