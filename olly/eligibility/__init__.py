"""Eligibility: who is covered, by what, on which date, with how much left to meet."""
