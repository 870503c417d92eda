"""Providers: registered providers and their care homes, kept in step with the CQC."""
