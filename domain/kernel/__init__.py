"""What every bounded context shares: who/when/why, errors, command types, personal data,
working days, and the topics events are stored under."""
