"""Screenshots of the worklist, the appointments, the surgeon's page and the
follow-up figures for the README.

Builds a throwaway demo clinic (migrate + seed_demo into
var/screenshots.sqlite3, debug mode), serves it on a free local port, logs
in as `desk` and as `surgeon1` in Debian's Chromium (/usr/bin/chromium:
never a downloaded browser), saves the first screen of each page (the
whole of /reports/) at 1280 px under docs/screenshots/, and stops the server it started.

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


def shoot(base_url: str) -> None:
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
                context.close()
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
        shoot(base_url)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
