"""The HTTP API: `create_app(ledger)` is in `api/http/app.py`.

Nothing is imported here, so that a module of the API (a table, a read function) can be used
by the pages, the documents and the CLI without loading the whole app, which loads the pages.
"""
