"""Claims: intake, adjudication, accumulators, prior authorisation, review and appeals."""
