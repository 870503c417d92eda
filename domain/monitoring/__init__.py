"""Monitoring: return templates and returns, placement returns, quality visits, KPIs and failures."""
