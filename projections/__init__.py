"""Read models that follow the notification log (built by the read-models issue; none yet)."""
