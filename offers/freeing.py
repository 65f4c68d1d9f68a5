"""A freed slot, heard from `followup.changes.slot_freed` inside the
transaction that freed it: recorded once, and offered at once when it is at
least `OFFER_MIN_LEAD_HOURS` ahead.

The record's key is the change that freed it (the visit and its sequence
after the change): the same change told twice inserts nothing the second
time, so it never makes a second batch. A slot freed nearer than the lead,
but still ahead, is recorded unoffered: the report counts every freed slot
and whether it was refilled.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from followup import changes
from offers import limits
from offers.batches import offer_batch
from offers.models import FreedSlot


def slot_freed(freed: changes.FreedSlot) -> None:
    """`followup.changes`' handler: record the freed slot, offer it."""
    if freed.start <= freed.at:
        return  # a slot in the past (a late no-show, a cancellation after)
    offered = limits.far_enough(freed.start, freed.at)
    try:
        with transaction.atomic():
            row = FreedSlot.objects.create(
                surgeon_id=freed.surgeon_id,
                start=freed.start,
                end=freed.end,
                freed_at=freed.at,
                visit_id=freed.visit_id,
                visit_sequence=freed.sequence,
                action=freed.action,
                offered=offered,
                offers_ended_at=None if offered else freed.at,
            )
    except IntegrityError:
        return  # this change was told before: its offers were made then
    if offered:
        offer_batch(row, now=freed.at)
