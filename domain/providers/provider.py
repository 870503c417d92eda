"""A registered provider (CQC provider id) and the locations CQC lists under it.

A `Provider` is created from the first CQC location record that names it and kept in step by
the records of its locations: a location new to it, a change of brand, and a location that
CQC now lists under another provider are events of their own.
"""

from __future__ import annotations

from domain.kernel.metadata import LedgerAggregate
from domain.kernel.topics import stored_as


@stored_as("domain.providers")
class Provider(LedgerAggregate):
    """A registered provider (CQC provider id, e.g. 1-102642955) and the locations it runs."""

    KIND = "provider"

    def __init__(self) -> None:
        self.reference = ""
        self.brand_id: str | None = None
        self.brand_name: str | None = None
        self.locations: list[str] = []

    @classmethod
    def import_cqc(cls, *, reference: str, brand_id: str | None, brand_name: str | None, location: str) -> Provider:
        return cls._create(
            cls.Imported, id=cls.id_for(reference), reference=reference, brand_id=brand_id, brand_name=brand_name, location=location
        )

    class Imported(LedgerAggregate.Created):
        reference: str
        brand_id: str | None
        brand_name: str | None
        location: str

        def apply(self, p: Provider) -> None:
            p.reference = self.reference
            p.brand_id = self.brand_id
            p.brand_name = self.brand_name
            p.locations = [self.location]

    def sync_cqc(self, *, brand_id: str | None, brand_name: str | None, location: str) -> None:
        """A location record naming this provider: note the location and the brand if new."""
        if location not in self.locations:
            self.trigger_event(self.LocationAdded, location=location)
        if (brand_id, brand_name) != (self.brand_id, self.brand_name):
            self.trigger_event(self.Rebranded, brand_id=brand_id, brand_name=brand_name)

    class LocationAdded(LedgerAggregate.Event):
        location: str

        def apply(self, p: Provider) -> None:
            p.locations = sorted([*p.locations, self.location])

    class Rebranded(LedgerAggregate.Event):
        brand_id: str | None
        brand_name: str | None

        def apply(self, p: Provider) -> None:
            p.brand_id = self.brand_id
            p.brand_name = self.brand_name

    def release_location(self, *, location: str, to_provider: str) -> None:
        """CQC now lists the location under another provider."""
        if location in self.locations:
            self.trigger_event(self.LocationReleased, location=location, to_provider=to_provider)

    class LocationReleased(LedgerAggregate.Event):
        location: str
        to_provider: str

        def apply(self, p: Provider) -> None:
            p.locations = [loc for loc in p.locations if loc != self.location]
