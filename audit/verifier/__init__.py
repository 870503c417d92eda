"""A standalone verifier for AQP Ledger proofs: standard library and `cryptography` only; it imports nothing else from the project."""
