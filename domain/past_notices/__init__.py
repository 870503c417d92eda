"""Past notices: other publishers' OCDS releases of past procurements, taken in as read-only facts."""
