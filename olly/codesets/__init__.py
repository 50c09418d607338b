"""Reference code sets shared by every domain: diagnoses, procedures, reason codes, places of service, NPIs.

Pure lookups with no I/O beyond reading this package's own data files, each loaded once on first use.
"""
