"""Screenshots of the worklist, the appointments, the surgeon's page, the
follow-up figures, a patient's page with their messages and the patient's
booking page (on a phone) for the README.

Builds a throwaway demo clinic (migrate + seed_demo into
var/screenshots.sqlite3, debug mode), serves it on a free local port, logs
in as `desk` and as `surgeon1` in Debian's Chromium (/usr/bin/chromium:
never a downloaded browser), saves the first screen of each page (the
whole of /reports/; of the patient's page, its messages) at 1280 px under
docs/screenshots/, and stops the server it started.

Its tasks go to an in-memory broker, so nothing reaches the demo's own
broker folder (var/broker/), whose worker would run them against another
database. Run it with `make screenshots`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATABASE = ROOT / "var" / "screenshots.sqlite3"
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "demo-clinic-2026"  # noqa: S105 - seed_demo's, printed on purpose
WIDTH, HEIGHT = 1280, 900
SHOTS = [
    ("desk", "/desk/", "worklist.png"),
    ("desk", "/desk/appointments/", "appointments.png"),
    # The records say "Garcia": the search folds the accent the clerk typed.
    ("desk", "/desk/?tab=all&q=garc%C3%ADa", "patient-search.png"),
    ("surgeon1", "/surgeon/", "surgeon.png"),
    ("desk", "/reports/", "reports.png"),
]
# Pages whose whole length is the picture (the charts sit below the table).
FULL_PAGE = {"reports.png"}
# The page of the demo's patient who texted R: their messages, the reply,
# the booking link sent back.
MESSAGES_SHOT = "patient-messages.png"
MESSAGES_HEIGHT = 1180
WHO_ASKED_TO_CHANGE = (
    "from messaging.models import Message; "
    "print(Message.objects.get(direction='in', intent='change').patient_id)"
)
# The patient's booking page, opened without login on a phone.
PHONE = {"width": 375, "height": 812}
BOOKING_SHOT = "booking-link.png"


def demo_environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{DATABASE}",
        "CELERY_BROKER_URL": "memory://",
    }


def manage(*args: str) -> None:
    # Our own interpreter and manage.py, with fixed arguments.
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=demo_environment(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def booking_link_path() -> str:
    """A fresh booking link of the demo clinic (`manage.py booking_link`)."""
    made = subprocess.run(
        [sys.executable, "manage.py", "booking_link", "--base-url", ""],
        cwd=ROOT,
        env=demo_environment(),
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip()


def patient_messages_path() -> str:
    """The page of the demo's patient who asked, by text, for another time."""
    found = subprocess.run(  # noqa: S603 - our own manage.py, fixed code
        [sys.executable, "manage.py", "shell", "-c", WHO_ASKED_TO_CHANGE],
        cwd=ROOT,
        env=demo_environment(),
        check=True,
        capture_output=True,
        text=True,
    )
    return f"/desk/patients/{found.stdout.split()[-1]}/"


def shoot_messages(page: Any, path: str) -> None:
    """The top of the patient's page: their contact details and consent,
    and their latest messages with the texts open (the reply sent back with
    the booking link, the patient's R, the reminder it answered)."""
    page.goto(path)
    texts = page.locator("#messages details")
    for index in range(min(texts.count(), 3)):
        texts.nth(index).locator("summary").click()
    clip = {"x": 0, "y": 0, "width": WIDTH, "height": MESSAGES_HEIGHT}
    page.screenshot(path=str(OUT / MESSAGES_SHOT), full_page=True, clip=clip)
    print(f"screenshots: {OUT.relative_to(ROOT) / MESSAGES_SHOT} (desk)")


def shoot_booking_page(browser: Any, base_url: str, path: str) -> None:
    context = browser.new_context(viewport=PHONE, base_url=base_url)
    page = context.new_page()
    page.goto(path)
    page.screenshot(path=str(OUT / BOOKING_SHOT))
    print(f"screenshots: {OUT.relative_to(ROOT) / BOOKING_SHOT} (the patient)")
    context.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, server: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"screenshots: the server stopped ({server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own http URL
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise SystemExit(f"screenshots: no answer from {url} in {seconds:.0f} s")


def shoot(base_url: str, booking_path: str, messages_path: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        try:
            for username, path, name in SHOTS:
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": HEIGHT}, base_url=base_url
                )
                page = context.new_page()
                page.goto("/login/")
                page.get_by_label("Username").fill(username)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                # Logged in: sent on to the role's home, wherever that is.
                page.wait_for_url(lambda url: "/login/" not in url)
                page.goto(path)
                page.screenshot(path=str(OUT / name), full_page=name in FULL_PAGE)
                print(f"screenshots: {OUT.relative_to(ROOT) / name} ({username})")
                if username == "desk" and name == "worklist.png":
                    shoot_messages(page, messages_path)
                context.close()
            shoot_booking_page(browser, base_url, booking_path)
        finally:
            browser.close()


def main() -> None:
    if not CHROMIUM.exists():
        raise SystemExit(f"screenshots: needs Chromium at {CHROMIUM}")
    OUT.mkdir(parents=True, exist_ok=True)
    DATABASE.parent.mkdir(parents=True, exist_ok=True)
    DATABASE.unlink(missing_ok=True)
    manage("migrate", "--noinput")
    manage("seed_demo")
    booking_path = booking_link_path()
    messages_path = patient_messages_path()
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed arguments, as above
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=demo_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_up(base_url + "/login/", server, seconds=30)
        shoot(base_url, booking_path, messages_path)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
