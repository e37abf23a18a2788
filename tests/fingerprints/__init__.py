"""Behaviour fingerprints: small deterministic runs of each method (see runs.py)."""
