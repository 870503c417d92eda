"""Contracts: frameworks, the contracts awarded under them, their changes, escalation and delivery."""
