"""What a running service serves, printed as JSON: every visit's row (ORM)
and the visits of the API, and the bytes of each feed token given.

Run as its own process against a DATABASE_URL, so that the original and the
restored database are asked by the same code, through a fresh cache:
`python -m tests.ops.serve_probe USERNAME TOKEN...`.
"""

from __future__ import annotations

import base64
import json
import sys

import django


def main(username: str, tokens: list[str]) -> None:
    django.setup()
    from django.contrib.auth.models import User
    from django.core.serializers.json import DjangoJSONEncoder
    from django.test import Client

    from followup.models import Visit

    client = Client()
    feeds = {}
    for token in tokens:
        response = client.get(f"/calendar/{token}.ics")
        feeds[token] = {
            "status": response.status_code,
            "body": base64.b64encode(response.content).decode(),
        }
    client.force_login(User.objects.get(username=username))
    api = client.get("/api/visits/?page_size=500")
    document = {
        "visits": list(Visit.objects.order_by("pk").values()),
        "api_status": api.status_code,
        "api_visits": api.json()["results"],
        "feeds": feeds,
    }
    sys.stdout.write(json.dumps(document, cls=DjangoJSONEncoder, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
