"""Infrastructure every domain uses (database, crypto, audit, logging, HTTP). No business rules."""
