"""Completed visits hold their slot; a visit records how late it was booked.

A patient seen at 09:00 keeps 09:00: `completed` joins `booked` and
`checked_in` in the statuses whose slot is held, in the check that such a
visit has a slot and, on PostgreSQL, in the two exclusion constraints of
migration 0004 (per surgeon, per patient), which are dropped and re-created
with the wider condition.

Before tightening them the migration looks for held visits that already
overlap (completed visits used to give their slot away, so a second patient
may have been booked into it). It never drops or changes such rows: it stops
with the list of visit ids, for a person to resolve (unbook or reschedule
one of each pair), and can then be run again.

`HELD_STATUSES` copies `followup.models.SLOT_HOLDING_STATUSES` as it stands
now (a migration must not follow later code); a test checks that they agree.
"""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Exists, Func, OuterRef, Q

HELD_STATUSES = ("booked", "checked_in", "completed")
WAS_HELD = ("booked", "checked_in")
OWNERS = {
    "visit_no_overlapping_bookings_per_surgeon": "surgeon",
    "visit_no_overlapping_bookings_per_patient": "patient",
}


class OverlappingBookings(Exception):
    """Held visits overlap: the constraints cannot be tightened over them."""


def _constraints(statuses: tuple[str, ...]):  # noqa: ANN202 - PostgreSQL only
    from django.contrib.postgres.constraints import ExclusionConstraint
    from django.contrib.postgres.fields import (
        DateTimeRangeField,
        RangeBoundary,
        RangeOperators,
    )

    class TsTzRange(Func):
        function = "TSTZRANGE"
        output_field = DateTimeRangeField()

    return [
        ExclusionConstraint(
            name=name,
            expressions=[
                (owner, RangeOperators.EQUAL),
                (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
            ],
            condition=Q(status__in=statuses),
        )
        for name, owner in OWNERS.items()
    ]


def overlapping_held_visits(Visit: type[models.Model]) -> list[tuple[str, int, int]]:
    """(owner, visit id, other visit id) for every pair of held visits that
    overlap with the same surgeon or the same patient, each pair once."""
    pairs = []
    for owner in OWNERS.values():
        field = f"{owner}_id"
        clashes = (
            Visit.objects.filter(
                status__in=HELD_STATUSES,
                **{field: OuterRef(field)},
                start__lt=OuterRef("end"),
                end__gt=OuterRef("start"),
                pk__gt=OuterRef("pk"),
            )
            .order_by("pk")
            .values("pk")
        )
        rows = (
            Visit.objects.filter(status__in=HELD_STATUSES, start__isnull=False)
            .filter(Exists(clashes))
            .order_by("pk")
        )
        for visit in rows:
            others = Visit.objects.filter(
                status__in=HELD_STATUSES,
                **{field: getattr(visit, field)},
                start__lt=visit.end,
                end__gt=visit.start,
                pk__gt=visit.pk,
            ).order_by("pk")
            pairs += [(owner, visit.pk, other) for other in others.values_list("pk", flat=True)]
    return pairs


def tighten(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    Visit = apps.get_model("followup", "Visit")
    pairs = overlapping_held_visits(Visit)
    if pairs:
        listed = "; ".join(
            f"visits {a} and {b} (same {owner})" for owner, a, b in pairs[:200]
        )
        more = f" and {len(pairs) - 200} more pairs" if len(pairs) > 200 else ""
        raise OverlappingBookings(
            f"{len(pairs)} pairs of booked, checked-in or completed visits "
            f"overlap: {listed}{more}. Nothing was changed. Reschedule or unbook "
            "one visit of each pair, then run the migration again."
        )
    for old, new in zip(_constraints(WAS_HELD), _constraints(HELD_STATUSES)):
        schema_editor.remove_constraint(Visit, old)
        schema_editor.add_constraint(Visit, new)


def loosen(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    Visit = apps.get_model("followup", "Visit")
    for new, old in zip(_constraints(HELD_STATUSES), _constraints(WAS_HELD)):
        schema_editor.remove_constraint(Visit, new)
        schema_editor.add_constraint(Visit, old)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("followup", "0005_rule_bounds"),
    ]

    operations = [
        migrations.RunPython(tighten, loosen),
        migrations.AlterModelOptions(
            name="visitevent",
            options={"ordering": ["id"]},
        ),
        migrations.RemoveConstraint(
            model_name="visit",
            name="visit_booked_has_slot",
        ),
        migrations.AddField(
            model_name="visit",
            name="late_by_days",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Booked this many days after its window closed: seen late.",
                null=True,
            ),
        ),
        migrations.AddConstraint(
            model_name="visit",
            constraint=models.CheckConstraint(
                condition=~Q(status__in=HELD_STATUSES)
                | Q(start__isnull=False, surgeon__isnull=False),
                name="visit_booked_has_slot",
            ),
        ),
    ]
