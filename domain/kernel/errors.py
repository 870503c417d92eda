"""Domain errors: a stable machine-readable code and a sentence a user understands.

Every refusal the ledger makes is one of these. The code is the contract with API clients
and scenario files (`"expect": {"error": "<code>"}`), so codes never change meaning.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command was refused by a rule of the domain; nothing was recorded."""

    code: str = "domain_error"
    #: the HTTP-ish kind of refusal, used by the API layer: validation | conflict | not_found | forbidden
    kind: str = "conflict"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        fields: list[dict[str, str]] | None = None,
        **context: Any,
    ):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.field = field
        #: every failure when several are reported at once: [{"field", "rule", "message"}]
        self.fields = fields
        self.context = context

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DomainError):
    """The command is malformed or breaks a rule about its own values."""

    code = "validation_failed"
    kind = "validation"


class NotPermitted(DomainError):
    """The actor's role may not perform this command."""

    code = "not_permitted"
    kind = "forbidden"


class NotFound(DomainError):
    code = "not_found"
    kind = "not_found"


def no_such(kind: str, reference: str, *, when: str = "") -> NotFound:
    """A record that is not there, or not there for the one asking: the same words, so neither tells the other apart.

    `kind` is the aggregate's KIND ("competition"); `when` e.g. " as of 2026-03-01T12:00:00+00:00".
    """
    return NotFound(f"There is no {kind.replace('_', ' ')} {reference}{when}.", code=f"{kind}_not_found")


class AlreadyExists(DomainError):
    code = "already_exists"
    kind = "conflict"


class RuleBroken(DomainError):
    """A procurement or contract rule refuses the command in the current state."""

    code = "rule_broken"
    kind = "conflict"
