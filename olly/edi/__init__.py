"""EDI: X12 5010 interchanges in and out."""
