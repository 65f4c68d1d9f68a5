"""The follow-up protocol as data: rules and recovery milestones.

Rows of `FollowUpRule` and `RecoveryMilestone` are the clinic's protocol; a
clinic admin edits them. A visit copies what it needs of its rule when it is
generated, so editing a rule changes no visit until a re-plan is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import (
    Q,
)

from clinic.models import ProcedureKind
from followup import rules

if TYPE_CHECKING:
    pass


class OffsetUnit(models.TextChoices):
    DAY = rules.Unit.DAY.value, "days"
    MONTH = rules.Unit.MONTH.value, "months"
    YEAR = rules.Unit.YEAR.value, "years"


class AppliesTo(models.TextChoices):
    ALL = "all", "Every procedure kind"
    ENDOSCOPIC = ProcedureKind.ENDOSCOPIC.value, ProcedureKind.ENDOSCOPIC.label
    ENDOSCOPIC_STEM_CELL = (
        ProcedureKind.ENDOSCOPIC_STEM_CELL.value,
        ProcedureKind.ENDOSCOPIC_STEM_CELL.label,
    )

    @classmethod
    def kinds(cls, value: str) -> frozenset[str]:
        return frozenset(rules.KINDS) if value == cls.ALL else frozenset({value})


# The protocol's reach: an offset past a century or a window past a year is a
# typo, and a date beyond the calendar would fail every plan that used it.
MAX_OFFSET = {
    rules.Unit.DAY.value: 36_600,
    rules.Unit.MONTH.value: 1_200,
    rules.Unit.YEAR.value: 100,
}
MAX_WINDOW_DAYS = 366
MAX_DURATION_MINUTES = 8 * 60


def check_offset(amount: int | None, unit: str) -> None:
    limit = MAX_OFFSET.get(unit)
    if amount is not None and limit is not None and amount > limit:
        raise ValidationError(
            {"offset_amount": f"At most {limit} {unit}s after surgery."}
        )


class FollowUpRuleQuerySet(models.QuerySet["FollowUpRule"]):
    def active(self) -> FollowUpRuleQuerySet:
        return self.filter(active=True)


class FollowUpRule(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    purpose = models.TextField(blank=True)
    applies_to = models.CharField(
        max_length=32, choices=AppliesTo.choices, default=AppliesTo.ALL
    )
    offset_amount = models.PositiveIntegerField(
        help_text="Due this long after surgery (for a yearly rule: every this long)."
    )
    offset_unit = models.CharField(max_length=8, choices=OffsetUnit.choices)
    window_days_before = models.PositiveIntegerField(
        validators=[MaxValueValidator(MAX_WINDOW_DAYS)],
        help_text="The booking window opens this many days before the due date.",
    )
    window_days_after = models.PositiveIntegerField(
        validators=[MaxValueValidator(MAX_WINDOW_DAYS)],
        help_text="The booking window closes this many days after the due date.",
    )
    duration_minutes = models.PositiveIntegerField(
        default=20, validators=[MaxValueValidator(MAX_DURATION_MINUTES)]
    )
    requires_mri = models.BooleanField(default=False)
    recurring = models.BooleanField(
        default=False,
        help_text="Repeat at every multiple of the offset while the programme runs.",
    )
    active = models.BooleanField(default=True)

    objects = FollowUpRuleQuerySet.as_manager()

    class Meta:
        ordering = ["offset_unit", "offset_amount", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0), name="rule_duration_positive"
            ),
            models.CheckConstraint(
                condition=~Q(recurring=True, offset_amount=0),
                name="rule_recurring_offset_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        check_offset(self.offset_amount, self.offset_unit)

    def as_spec(self) -> rules.RuleSpec:
        return rules.RuleSpec(
            code=self.code,
            kinds=AppliesTo.kinds(self.applies_to),
            offset_amount=self.offset_amount,
            offset_unit=rules.Unit(self.offset_unit),
            window_days_before=self.window_days_before,
            window_days_after=self.window_days_after,
            duration_minutes=self.duration_minutes,
            requires_mri=self.requires_mri,
            recurring=self.recurring,
        )


class RecoveryMilestoneQuerySet(models.QuerySet["RecoveryMilestone"]):
    def specs(self) -> list[rules.MilestoneSpec]:
        return [m.as_spec() for m in self.filter(active=True)]


class RecoveryMilestone(models.Model):
    """Patient guidance shown in the patient's calendar; never booked."""

    code = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=200)
    applies_to = models.CharField(
        max_length=32, choices=AppliesTo.choices, default=AppliesTo.ALL
    )
    offset_amount = models.PositiveIntegerField()
    offset_unit = models.CharField(max_length=8, choices=OffsetUnit.choices)
    active = models.BooleanField(default=True)
    # The SEQUENCE of its events in the patients' feeds: rises on each edit
    # (`followup.services.republish.milestone_edited`), so that calendar
    # clients replace the copy they hold.
    revision = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecoveryMilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["offset_unit", "offset_amount", "code"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        check_offset(self.offset_amount, self.offset_unit)

    def as_spec(self) -> rules.MilestoneSpec:
        return rules.MilestoneSpec(
            code=self.code,
            title=self.title,
            kinds=AppliesTo.kinds(self.applies_to),
            offset_amount=self.offset_amount,
            offset_unit=rules.Unit(self.offset_unit),
        )
