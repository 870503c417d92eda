"""The ways in: the `aqp` command line, scenario files and (later) the HTTP API."""
