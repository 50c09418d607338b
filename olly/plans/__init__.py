"""Plans: versioned, effective-dated benefit schedules and premium rate tables (see docs/plans.md)."""
