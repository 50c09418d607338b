"""Member reimbursement documents: the kinds and the size limits (what a file is comes from its
first bytes: ``olly.platform.filetypes.sniff``)."""

from __future__ import annotations

from typing import Final

MAX_FILE_BYTES: Final = 10 * 1024 * 1024
MAX_TOTAL_BYTES: Final = 25 * 1024 * 1024
MAX_FILES: Final = 20

#: Document kinds a member uploads, by form field.
KINDS: Final = {"bills": "BILL", "prescriptions": "PRESCRIPTION", "dischargeSummary": "DISCHARGE_SUMMARY"}
