"""Procurement: a competition from opening to award (the Competition and the rules of a round)."""
