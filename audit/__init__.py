"""Merkle log, signed checkpoints, verification and exports (built by the audit issue; none yet)."""
