"""Documents: the data a document is (a procurement report) drawn as a page and as a PDF, from one template.

A document's body is one template (`_defence_pack_body.html`), drawn inside the pages' layout
at `/app/...` and inside `document.html`, a print layout of our own (A4, running header and
page numbers, `static/document.css`), which WeasyPrint turns into a PDF (it needs Pango, which
these machines have). Nothing is fetched: the print layout carries no design-system file and
no font but the system's, so a PDF is made offline from the ledger alone.

`foi_extract_view`: an FOI extract (`audit.foi_extract`) as its requester reads it: each record
released with its fields, every withholding marked where it was and listed in the schedule with
its kind, exemption and rule, the policy's reasons, and the checkpoint its proofs lead to.

`defence_pack_view`: the procurement report's data (`audit.defence_pack`) as a reader reads it,
each fact's statement with its values put in (and escaped), each fact's footnotes the ledger
positions of the events it rests on, listed at the end with who recorded each, when and why.
Every value stays exactly as stored (codes, ISO times): the verifier checks those, and counsel
must be able to match what they read to what it checked.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from api.web.templating import ENVIRONMENT

STATIC = Path(__file__).parent / "static"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def shown(value: Any) -> str:
    """A stored value as the report prints it (exactly, apart from lists and maps made readable)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {shown(v)}" for k, v in value.items()) if value else "none"
    return str(value)


def statement_html(fact: dict[str, Any]) -> Markup:
    """The fact's statement with each `{name}` replaced by its value in bold (everything escaped)."""
    values = fact.get("values") or {}
    parts: list[str] = []
    last = 0
    for match in PLACEHOLDER.finditer(fact["statement"]):
        parts.append(str(escape(fact["statement"][last:match.start()])))
        last = match.end()
        name = match.group(1)
        if name not in values:
            parts.append(str(escape(match.group(0))))
            continue
        text = shown(values[name])
        # A figure or a name stands out; a long text (a justification, a reason) is read, so it is not bold.
        parts.append(f'<span class="aqp-quoted">{escape(text)}</span>' if len(text) > 60 else f"<strong>{escape(text)}</strong>")
    parts.append(str(escape(fact["statement"][last:])))
    return Markup("".join(parts))  # noqa: S704 - every part is escaped above


def defence_pack_view(pack: dict[str, Any], *, made_at: datetime | None = None) -> dict[str, Any]:
    """What `_defence_pack_body.html` draws: the pack's sections, facts, footnoted events and checkpoint."""
    sections = []
    for number, section in enumerate(pack["sections"], start=1):
        facts = [
            {"id": fact["id"], "number": f"{number}.{n}", "html": statement_html(fact), "cites": sorted(fact.get("cites") or [])}
            for n, fact in enumerate(section["facts"], start=1)
        ]
        sections.append({"id": section["id"], "number": number, "title": section["title"], "anchor": f"section-{number}", "facts": facts})
    standstill = pack.get("standstill_days")
    if standstill:  # the day-by-day table goes with the letters' section, else the first citing what it counts from
        citing = [s for s in sections if any(standstill["event"] in f["cites"] for f in s["facts"])]
        home = next((s for s in citing if s["id"] == "letters"), citing[0] if citing else sections[-1] if sections else None)
        if home is not None:
            home["standstill"] = True
    events = [
        {"position": int(position), **event["footnote"], "leaf_hash": event["leaf_hash"], "withheld": event["record"] is None}
        for position, event in sorted(pack["events"].items(), key=lambda item: int(item[0]))
    ]
    checkpoint_lines = pack["checkpoint"].split("\n")
    return {
        "pack": pack,
        "sections": sections,
        "events": events,
        "standstill": standstill,
        "checkpoint": {
            "origin": checkpoint_lines[0],
            "size": checkpoint_lines[1] if len(checkpoint_lines) > 1 else "",
            "root": checkpoint_lines[2] if len(checkpoint_lines) > 2 else "",
            "note": pack["checkpoint"],
            "seq": pack.get("checkpoint_seq"),
        },
        "signed": bool(pack.get("signature")),
        "facts": sum(len(s["facts"]) for s in sections),
        "withheld_events": sum(1 for e in events if e["withheld"]),
        "recomputed": len(pack.get("recomputations") or []),
        "made_at": (made_at or datetime.now(timezone.utc)).strftime("%-d %B %Y at %H:%M UTC"),
    }


def defence_pack_title(pack: dict[str, Any]) -> str:
    about = pack["competition"] + (f", lot {pack['lot']}" if pack.get("lot") else "")
    return f"Procurement report: {about}" + (f", for {pack['for_bidder']}" if pack.get("for_bidder") else "")


WITHHELD_MARKS = ("[withheld]", "[erased]")


def released_html(value: Any) -> Markup:
    """A released field's value: text as it is, a structure as compact JSON; each withholding marked."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    html = str(escape(text))
    for mark in WITHHELD_MARKS:
        html = html.replace(mark, f'<mark class="aqp-withheld">{mark}</mark>')
    return Markup(html)  # noqa: S704 - escaped above, the marks are ours


def foi_extract_view(records: list[dict[str, Any]], schedule: list[dict[str, Any]], manifest: dict[str, Any],
                     *, manifest_sha256: str) -> dict[str, Any]:
    """What `_foi_extract_body.html` draws: the released records, the redaction schedule, the policy and the proofs' checkpoint."""
    withheld_at: dict[int, int] = {}
    for entry in schedule:
        withheld_at[entry["position"]] = withheld_at.get(entry["position"], 0) + 1
    shown_records = [
        {
            **{k: r[k] for k in ("position", "type", "when", "command", "reason", "who", "record")},
            "fields": [(name, released_html(value)) for name, value in (r.get("fields") or {}).items()],
            "who_id": released_html(r["who"]["id"]) if r["who"].get("id") else None,
            "who_org": released_html(r["who"].get("org") or "–"),
            "reason_html": released_html(r["reason"]) if r.get("reason") else None,
            "withheld": withheld_at.get(r["position"], 0),
        }
        for r in records
    ]
    lines = manifest["checkpoint"].split("\n")
    return {
        "m": manifest,
        "records": shown_records,
        "schedule": schedule,
        "rules": manifest["policy"]["rules"],
        "kinds": sorted({(e["kind"], e["exemption"]) for e in schedule}),
        "checkpoint": {"origin": lines[0], "size": lines[1] if len(lines) > 1 else "", "root": lines[2] if len(lines) > 2 else "",
                       "note": manifest["checkpoint"], "seq": manifest.get("checkpoint_seq")},
        "manifest_sha256": manifest_sha256,
    }


def foi_extract_documents(records: list[dict[str, Any]], schedule: list[dict[str, Any]], manifest: dict[str, Any],
                          *, manifest_sha256: str, how_to_verify: str) -> tuple[str, bytes]:
    """The FOI extract as a standalone HTML document and its PDF: the records as released and the schedule."""
    title = f"FOI extract: {manifest['about']}" + (f" (request {manifest['request']})" if manifest.get("request") else "")
    view = foi_extract_view(records, schedule, manifest, manifest_sha256=manifest_sha256)
    html = document_html("_foi_extract_body.html", title=title, how_to_verify=how_to_verify, **view)
    return html, pdf_of(html)


def document_html(body_template: str, *, title: str, **context: Any) -> str:
    """The standalone document (print layout) around `body_template`, as WeasyPrint reads it."""
    return ENVIRONMENT.get_template("document.html").render(
        # Our own file, inside <style>, where an HTML parser decodes no entity: never escaped.
        title=title, body_template=body_template, document_css=Markup((STATIC / "document.css").read_text(encoding="utf-8")), **context
    )


def pdf_of(html: str) -> bytes:
    """The PDF of a standalone document (WeasyPrint; imported here, as it loads Pango on first use)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(STATIC)).write_pdf()  # type: ignore[no-any-return]


def defence_pack_documents(pack: dict[str, Any], *, how_to_verify: str) -> tuple[str, bytes]:
    """The procurement report as a standalone HTML document and its PDF."""
    title = defence_pack_title(pack)
    html = document_html("_defence_pack_body.html", title=title, how_to_verify=how_to_verify, **defence_pack_view(pack))
    return html, pdf_of(html)
