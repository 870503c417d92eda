"""The pages: server-rendered, in the NHS.UK design system, for the people who commission.

`PAGES` is every page's Controller; `page_router()` puts them under `/app` with session
sign-in (`auth.SessionAuth`), the form-token check on every POST (`auth.check_page_request`)
and the design system's files (`node_modules/nhsuk-frontend`, installed by `make`) at
`/app/assets`. `/` sends a browser to the home page. A page reads what the API reads, for the
same principal, through the same policies of `domain.access`; see `api/web/templating.py`
for how a page is rendered and `api/web/errors.py` for how an error is shown.
"""
