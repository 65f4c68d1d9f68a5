"""The virtual environment: `import urllib3` is the real urllib3, and works.

caldav 3 brings niquests and urllib3-future, whose default wheel writes itself
over site-packages/urllib3 (requirements.txt explains the cure). Shadowed,
urllib3 reports the fork's version (2.25.x) and requests-based tools such as
schemathesis break.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_urllib3_is_the_real_urllib3_not_the_fork() -> None:
    import urllib3

    installed = metadata.version("urllib3")
    assert urllib3.__version__ == installed, (
        f"import urllib3 gives {urllib3.__version__} from {urllib3.__file__}, "
        f"but the urllib3 distribution is {installed}: urllib3-future shadows it"
    )
    assert urllib3.__version__.startswith("2.")
    # The fork's startup hook, which rewrites urllib3/ at every interpreter
    # start, is not installed.
    package_dir = Path(urllib3.__file__).parent
    assert not (package_dir.parent / "urllib3_future.pth").exists()
    assert not (package_dir / ".u3f_sync").exists()


def test_urllib3_and_requests_talk_http(local_server: str) -> None:
    import requests
    import urllib3

    with urllib3.PoolManager() as pool:
        response = pool.request("GET", local_server, retries=False, timeout=5)
    assert (response.status, response.data) == (200, b"hello")

    assert requests.get(local_server, timeout=5).text == "hello"


def test_niquests_uses_its_own_fork_beside_urllib3(local_server: str) -> None:
    """caldav's HTTP client keeps working with urllib3-future as
    `urllib3_future`."""
    import niquests

    assert niquests.get(local_server, timeout=5).text == "hello"
