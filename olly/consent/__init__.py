"""Consent: communication preferences, data sharing with third-party apps, confidential
communications, and requests to delete a person's data (seed 004: ConsentRecord, DeletionRequest)."""
