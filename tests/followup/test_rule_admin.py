"""A clinic admin edits the protocol; a value no plan could use is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followup.models import FollowUpRule

pytestmark = pytest.mark.django_db


def post_rule(client: Client, rule: FollowUpRule, **changes: object) -> str:
    client.force_login(User.objects.create_superuser("root", "r@x.example", "pw-9x!"))
    data = {
        "code": rule.code,
        "name": rule.name,
        "purpose": rule.purpose,
        "applies_to": rule.applies_to,
        "offset_amount": rule.offset_amount,
        "offset_unit": rule.offset_unit,
        "window_days_before": rule.window_days_before,
        "window_days_after": rule.window_days_after,
        "duration_minutes": rule.duration_minutes,
        "requires_mri": "on" if rule.requires_mri else "",
        "recurring": "on" if rule.recurring else "",
        "active": "on",
        **changes,
    }
    response = client.post(f"/admin/followup/followuprule/{rule.pk}/change/", data)
    return response.content.decode() if response.status_code == 200 else ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"offset_amount": 200_000}, "At most 36600 days after surgery."),
        ({"offset_unit": "year", "offset_amount": 500}, "At most 100 years"),
        ({"window_days_after": 5000}, "less than or equal to 366"),
        ({"duration_minutes": 10_000}, "less than or equal to 480"),
    ],
)
def test_a_rule_beyond_the_calendar_is_refused_and_unchanged(
    client: Client, changes: dict[str, object], message: str
) -> None:
    rule = FollowUpRule.objects.get(code="postop_control")

    page = post_rule(client, rule, **changes)

    assert message in page
    assert FollowUpRule.objects.get(pk=rule.pk).as_spec() == rule.as_spec()


def test_a_sensible_rule_edit_is_saved(client: Client) -> None:
    rule = FollowUpRule.objects.get(code="postop_control")

    assert post_rule(client, rule, window_days_after=6) == ""

    assert FollowUpRule.objects.get(pk=rule.pk).window_days_after == 6
