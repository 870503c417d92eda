"""The HTTP API: serving it, and its bearer tokens.

    aqp serve [--host H] [--port P] [--graceful-seconds S]   the HTTP API (see api/serve.py)
    aqp tokens issue|revoke|list                             API bearer tokens (see api/tokens.py)
    aqp sign-in --user U --org O --role R [--base-url URL]   a one-time sign-in link for the pages (api/web/sessions.py)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.bootstrap import redact_url
from api.cli.common import database_url, open_ledger, settings
from domain.kernel.metadata import ROLES


def cmd_serve(args: argparse.Namespace) -> int:
    """`aqp serve`: the HTTP API (see api/serve.py)."""
    from api.serve import serve  # the web framework is imported only by the verbs that serve

    url = database_url(args)
    print(f"AQP Ledger API on http://{args.host}:{args.port} over {redact_url(url)} (OpenAPI at /schema)", file=sys.stderr)
    serve(open_ledger(args, "api"), settings(args), host=args.host, port=args.port, graceful_seconds=args.graceful_seconds)
    return 0


def cmd_tokens(args: argparse.Namespace) -> int:
    """`aqp tokens issue|revoke|list`: API bearer tokens (see api/tokens.py)."""
    from api.tokens import TokenError, TokenStore

    ledger = open_ledger(args)
    store = TokenStore(ledger)
    try:
        if args.action == "issue":
            issued = store.issue(user=args.user, org=args.org, role=args.role)
            p = issued.principal
            print(f"issued {p.token_id} for {p.user} ({p.role}, {p.org}); the token is shown once, keep it secret:", file=sys.stderr)
            print(issued.token)
        elif args.action == "revoke":
            record = store.revoke(args.token, reason=args.reason)
            print(f"revoked {record.token_id} ({record.user}, {record.role}, {record.org}) at {record.revoked_at}")
        else:
            for r in store.all():
                state = f"revoked {r.revoked_at} ({r.revoked_reason})" if r.revoked_at else "live"
                print(f"{r.token_id}  {r.user:<20} {r.role:<17} {r.org:<16} issued {r.issued_at}  {state}")
    except TokenError as err:
        print(f"aqp tokens {args.action}: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_sign_in(args: argparse.Namespace) -> int:
    """`aqp sign-in`: a one-time link that signs a person in to the pages (see api/web/sessions.py)."""
    from api.tokens import TokenError
    from api.web.sessions import SignIns

    configured = settings(args)
    ledger = open_ledger(args)
    try:
        link = SignIns(ledger, link_minutes=configured.web_sign_in_minutes, session_hours=configured.web_session_hours).issue(
            user=args.user, org=args.org, role=args.role
        )
    except TokenError as err:
        print(f"aqp sign-in: {err}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    base = (args.base_url or f"http://{configured.http_host}:{configured.http_port}").rstrip("/")
    p = link.principal
    print(
        f"a sign-in link for {p.user} ({p.role}, {p.org}), {link.link_id}: it works once, until "
        f"{link.expires_at:%H:%M} UTC; send it only to that person:",
        file=sys.stderr,
    )
    print(base + link.path())
    return 0


def serve_arguments(serve_verb: argparse.ArgumentParser, defaults: Any) -> None:
    serve_verb.add_argument("--host", default=defaults.http_host, help="default 127.0.0.1")
    serve_verb.add_argument("--port", type=int, default=defaults.http_port, help="default 8000")
    serve_verb.add_argument("--graceful-seconds", type=float, default=30.0, help="how long in-flight requests may finish on shutdown")
    serve_verb.set_defaults(func=cmd_serve, log_level="info")


def tokens_arguments(tokens: argparse.ArgumentParser, defaults: Any) -> None:
    tokens_sub = tokens.add_subparsers(dest="action", required=True)
    issue = tokens_sub.add_parser("issue", help="issue a token (printed once; only its hash is kept)")
    issue.add_argument("--user", required=True, help="the person's (or system's) id, e.g. j.okafor")
    issue.add_argument("--org", required=True, help="their organisation, e.g. NEL-CSU, or a provider's CQC id")
    issue.add_argument("--role", required=True, choices=ROLES, help="the role the token acts in (one per token)")
    revoke = tokens_sub.add_parser("revoke", help="revoke a token by its id (tok_...) or the token itself")
    revoke.add_argument("token", help="tok_... or the token")
    revoke.add_argument("--reason", required=True, help="why, e.g. 'left the organisation'")
    tokens_sub.add_parser("list", help="every token's id, principal and state (never the token)")
    tokens.set_defaults(func=cmd_tokens)


def sign_in_arguments(sign_in: argparse.ArgumentParser, defaults: Any) -> None:
    sign_in.add_argument("--user", required=True, help="the person's id, e.g. a.khan@ncl.example.nhs.uk")
    sign_in.add_argument("--org", required=True, help="their organisation, e.g. ICB-NCL, or a provider's CQC id")
    sign_in.add_argument("--role", required=True, choices=ROLES, help="the role they act in on the pages")
    sign_in.add_argument("--base-url", help="the pages' address (default http://$AQP_HTTP_HOST:$AQP_HTTP_PORT)")
    sign_in.set_defaults(func=cmd_sign_in)

