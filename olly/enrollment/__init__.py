"""Enrollment: elections, dependents, plan changes, terminations and COBRA continuation."""
