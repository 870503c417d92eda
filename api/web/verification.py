"""Verification: can the ledger still be trusted, and how does an auditor check it without trusting us?

    GET /app/verification         the state of verification, for every role (`access.ALL_ROLES`)
    GET /app/verification/proof   ?position=N: a proof bundle (JSON) for one stored event, for
                                  auditors and admins only (`access.PROOF_READERS`), as `GET /audit/proofs/N`

The page shows the latest signed checkpoint (its tree size, root hash, time and the key that
signed it), how many checkpoints there are, and a few checks cheap enough for every view:
that the checkpoint's signature holds under the verifier keys this server trusts (the key
directory, never a key from the database), that the stored Merkle tree still gives the signed
root, whether every stored event is in the log and how many came after the checkpoint. None
of this replays or rehashes the ledger; the full check is `aqp audit verify`, whose result the
ledger does not record, so the page says how to run it (and the standalone verifier) instead
of claiming a result. Checkpoints say nothing but sizes and roots, so every role may see them,
as `GET /audit/checkpoints`; a proof bundle carries a stored record's raw bytes, so only proof
readers get one, through the API's own `proof_for` (a sealed tender's record withheld alike).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get

from api.http.audit_routes import proof_for
from api.http.auth import principal_of, requires_role
from api.http.problems import ProblemError
from api.settings import current as current_settings
from api.web.templating import render
from audit.verifier.note import SIGNATURE_PREFIX, NoteError, parse_checkpoint, verify_note
from domain import access

#: how many of the latest checkpoints the page lists
RECENT = 10


def signer_names(note: str) -> list[str]:
    """The key names on a signed note's signature lines (read, not verified)."""
    _, _, block = note.rpartition("\n\n")
    return [line[len(SIGNATURE_PREFIX):].partition(" ")[0] for line in block.splitlines() if line.startswith(SIGNATURE_PREFIX)]


def verification_state(service: Any) -> dict[str, Any]:
    """The cheap checks: a few indexed reads and O(log n) stored nodes, never the whole ledger."""
    checkpoints = service.checkpoints()
    log = checkpoints.log
    size, last_logged = log.tip()
    stored = service.ledger.max_position()
    recent = checkpoints.recent(RECENT)
    latest = recent[0] if recent else None
    state: dict[str, Any] = {
        "count": checkpoints.count(),
        "recent": recent,
        "latest": latest,
        "log_size": size,
        "last_logged": last_logged,
        "last_stored": stored,
        # Notification ids can skip (PostgreSQL after a failed save), so this is "behind", not a count.
        "log_behind": stored > last_logged,
    }
    if latest is None:
        return state
    keys = service.keys.verifier_keys()
    state["signers"] = signer_names(latest.note)
    state["trusted_keys"] = len(keys)
    try:
        text, verified = verify_note(latest.note, keys)
        signed = parse_checkpoint(text)
        state["signature"] = "holds" if (signed.size, signed.root_hash) == (latest.tree_size, latest.root_hash) else "row differs"
        state["verified_by"] = verified
        state["origin"] = signed.origin
    except NoteError as err:
        state["signature"] = "no key" if not keys else "fails"
        state["signature_problem"] = str(err)
    if latest.tree_size > size:
        state["root"] = "beyond log"
    else:
        try:
            state["root"] = "holds" if log.root(latest.tree_size) == latest.root_hash else "differs"
        except LookupError:
            state["root"] = "nodes missing"
    state["since_checkpoint"] = max(0, size - latest.tree_size)
    return state


def log_and_keys(service: Any) -> tuple[Any, ...]:
    """What the page shows besides the ledger's state (`api.web.kept`): the Merkle log's tip, which
    its follower moves without a new event, and the published verifier keys (a file)."""
    keys = service.keys.verifier_keys_file
    try:
        published = keys.stat()
        file = (published.st_mtime_ns, published.st_size)
    except OSError:
        file = None
    return (service.checkpoints().log.tip(), file)


class VerificationPages(Controller):
    path = "/app/verification"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.ALL_ROLES)], opt={"kept_also": log_and_keys})
    def verification(self, request: Request[Any, Any, Any]) -> Response[str]:
        principal = principal_of(request)
        settings = current_settings()
        return render(
            request, "verification.html", title="Verification", v=verification_state(request.app.state.service),
            proofs=principal.role in access.PROOF_READERS, every_events=settings.checkpoint_every_events,
            every_seconds=settings.checkpoint_every_seconds,
        )

    @get("/proof", sync_to_thread=True, guards=[requires_role(*access.PROOF_READERS)])
    def proof(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        given = request.query_params.get("position", "")
        if not given.isdigit() or not 1 <= int(given) <= 2**62:
            raise ProblemError(400, "invalid_position", "Enter the event's position (its notification id) as a whole number from 1.")
        position = int(given)
        bundle = proof_for(request.app.state.service, principal_of(request), position)
        return Response(
            msgspec.json.format(msgspec.json.encode(bundle), indent=2) + b"\n",
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="proof-{position}.json"', "Cache-Control": "no-store"},
        )
