"""Claims: intake, adjudication, prior authorization and appeals."""
