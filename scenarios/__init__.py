"""Histories to build a ledger from: the scenario files (commands as JSON lines, each with what it
must lead to; `make_*.py` writes each one) and the demo (`scenarios/demo/`: a realistic
commissioning world, built through the users' commands with a seeded randomness)."""
