"""Load the demo clinic once: staff logins, two surgeons, ~50 patients.

Idempotent: a second run finds the demo admin and changes nothing. Patients
are spread over every stage of follow-up (just operated, one month, annual
reviews due, overdue, completed), so a newcomer sees a realistic worklist.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clinic.models import Procedure, ProcedureKind, Surgeon
from followup import services

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - printed for the demo on purpose
STAFF = [
    # username, first, last, group, is superuser
    ("admin", "Ana", "Admin", "clinic_admin", True),
    ("desk", "Dani", "Desk", "front_desk", False),
    ("surgeon1", "Lucia", "Moreno", "surgeon", False),
    ("surgeon2", "Javier", "Ortega", "surgeon", False),
]
GIVEN = ["Maria", "Jose", "Carmen", "Antonio", "Lucia", "Manuel", "Elena", "Pablo"]
FAMILY = ["Garcia", "Lopez", "Martin", "Sanchez", "Perez", "Gomez", "Ruiz", "Diaz"]
PATIENTS = 50
# Days before today for each demo surgery: every stage of the protocol.
SURGERY_AGES = [2, 5, 9, 12, 20, 28, 33, 45, 70, 120, 200, 340, 365, 400, 700, 740]


class Command(BaseCommand):
    help = "Load the demo clinic (idempotent) and print its logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.filter(username="admin").exists():
            self.stdout.write("Demo clinic already loaded.")
        else:
            self._load(today=timezone.localdate())
            self.stdout.write(self.style.SUCCESS("Demo clinic loaded."))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for username, first, last, group, _ in STAFF:
            self.stdout.write(f"  {username:<9} {group:<13} {first} {last}")
        self.stdout.write("Open http://127.0.0.1:8000/admin/")

    @transaction.atomic
    def _load(self, *, today: dt.date) -> None:
        rng = random.Random(2026)  # noqa: S311 - the same demo every time, not a secret
        surgeons = []
        for username, first, last, group, superuser in STAFF:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=group == "clinic_admin",
                is_superuser=superuser,
            )
            user.groups.add(Group.objects.get(name=group))
            if group == "surgeon":
                surgeons.append(
                    Surgeon.objects.create(
                        user=user, given_name=first, family_name=last
                    )
                )
        for number in range(1, PATIENTS + 1):
            patient = services.create_patient(
                record_number=f"MRN{number:05d}",
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                birth_date=dt.date(rng.randint(1945, 2000), rng.randint(1, 12), 15),
                today=today,
            )
            age = SURGERY_AGES[number % len(SURGERY_AGES)]
            services.create_procedure(
                patient=patient,
                surgeon=surgeons[number % len(surgeons)],
                kind=(
                    ProcedureKind.ENDOSCOPIC_STEM_CELL
                    if number % 3 == 0
                    else ProcedureKind.ENDOSCOPIC
                ),
                surgery_date=today - dt.timedelta(days=age),
                today=today,
            )
        assert Procedure.objects.count() == PATIENTS  # noqa: S101
