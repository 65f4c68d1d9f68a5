"""`GET /calendar/<token>.ics`: a subscription feed, at memory speed.

The order of work is what keeps a poll cheap:
1. throttle, per client address and per token (one Redis round trip); the
   address is read through TRUSTED_PROXIES like the API's, and guesses of
   bad tokens are counted apart from polls of good ones;
2. the link by its token's hash, which carries its feed's version (one row,
   read from this process's memory when it served the link before,
   `feeds.link_cache`):
   ETag and Last-Modified come from the version, so a conditional request
   is answered 304 here, before any body work, touching no visit;
3. the body: this process's memory, else the shared cache, else built from
   stored entries (rendering only stale ones) and cached under its version.

Unknown, malformed, revoked and rotated-away tokens all get the very same
404, so a response never tells which.
"""

from __future__ import annotations

import functools
import gzip
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.csrf import csrf_exempt

from core.addresses import client_address
from core.throttle import TokenThrottle
from core.tokens import hash_token, looks_like_token
from feeds import lookup, rendering, versions

CACHE_SECONDS = 24 * 60 * 60
NOT_FOUND_BODY = b"No calendar here.\n"
TOO_MANY_BODY = b"Too many requests for this calendar; retry later.\n"
NOT_ALLOWED_BODY = b"A calendar feed is read with GET or HEAD only.\n"
CONTENT_TYPE = "text/calendar; charset=utf-8"


class _MemoryBodies:
    """The last body of each feed in this process, bounded in bytes.

    Entries are keyed by feed and encoding and carry the version stamp they
    were built for, so a hit is valid exactly when the stamp matches.
    """

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str], tuple[str, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], stamp: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != stamp:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: tuple[str, str], stamp: str, body: bytes) -> None:
        budget = settings.FEED_MEMORY_CACHE_BYTES
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            if len(body) > budget:
                return
            self._items[key] = (stamp, body)
            self._bytes += len(body)
            while self._bytes > budget:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


memory = _MemoryBodies()


throttle = TokenThrottle("feeds", settings_prefix="FEED")


def _unlogged(response: HttpResponse) -> HttpResponse:
    # Django would log the path of every 4xx, and the path holds a token: a
    # mistyped or revoked one is still close to a secret, so keep it out of
    # the logs (and keep a token-guessing run from flooding them).
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _not_found() -> HttpResponse:
    return _unlogged(
        HttpResponse(
            NOT_FOUND_BODY, status=404, content_type="text/plain; charset=utf-8"
        )
    )


def _too_many(retry_after: int) -> HttpResponse:
    response = HttpResponse(
        TOO_MANY_BODY, status=429, content_type="text/plain; charset=utf-8"
    )
    response["Retry-After"] = str(retry_after)
    return _unlogged(response)


def _etag_matches(header: str, etags: tuple[str, ...]) -> bool:
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag in etags:
            return True
    return False


def _not_modified(request: HttpRequest, etags: tuple[str, ...], seconds: int) -> bool:
    # META, not request.headers: building that mapping of every header cost
    # a poll more than the two lookups it serves.
    # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110).
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        return _etag_matches(if_none_match, etags)
    since = request.META.get("HTTP_IF_MODIFIED_SINCE")
    if since is not None:
        parsed = parse_http_date_safe(since)
        return parsed is not None and seconds <= parsed
    return False


@dataclass(frozen=True)
class _Validators:
    token: str
    plain_etag: str
    gzip_etag: str
    seconds: int
    last_modified: str


@functools.lru_cache(maxsize=1024)
def _validators(stamp: versions.Stamp) -> _Validators:
    # Derived from the stamp alone, so worked out once per feed version.
    token = stamp.token
    tag = f"{rendering.FORMAT_VERSION}-{token}"
    seconds = int(stamp.changed_at.timestamp())
    return _Validators(token, f'"{tag}"', f'"{tag}-gz"', seconds, http_date(seconds))


def _body(key: str, stamp: str, scope: str, owner_id: int | None, gz: bool) -> bytes:
    encoding = "gzip" if gz else "identity"
    found = memory.get((key, encoding), stamp)
    if found is not None:
        return found
    cache_key = f"feeds:body:{rendering.FORMAT_VERSION}:{key}:{stamp}:{encoding}"
    found = cache.get(cache_key)
    if found is None:
        if gz:
            plain = _body(key, stamp, scope, owner_id, gz=False)
            found = gzip.compress(plain, compresslevel=6, mtime=0)
        else:
            found = rendering.build_feed(scope, owner_id)
        cache.set(cache_key, found, CACHE_SECONDS)
    memory.put((key, encoding), stamp, found)
    return found


def _not_allowed() -> HttpResponse:
    # Django's own 405 (require_safe) logs the path, token and all; so would
    # the CSRF check for a POST, hence csrf_exempt: this view never writes.
    response = HttpResponse(
        NOT_ALLOWED_BODY, status=405, content_type="text/plain; charset=utf-8"
    )
    response["Allow"] = "GET, HEAD"
    return _unlogged(response)


@csrf_exempt
def feed(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _not_allowed()
    now = time.time()
    # The address exactly as the API's throttles and the login lockout read it.
    ip = client_address(request)
    digest = hash_token(token) if looks_like_token(token) else None
    retry, known = throttle.check(ip=ip, digest=digest, now=now)
    if retry is not None:
        return _too_many(retry)

    link = None if digest is None else lookup.find_active_by_digest(digest)
    if link is None:
        retry = throttle.guessed(ip=ip, now=now)
        return _not_found() if retry is None else _too_many(retry)
    if not known:
        throttle.served(ip=ip, digest=digest or "", now=now)
    lookup.touch(link, now=timezone.now())

    valid = _validators(link.stamp)
    gz = "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")
    headers = {
        "ETag": valid.gzip_etag if gz else valid.plain_etag,
        "Last-Modified": valid.last_modified,
        # A secret URL: no shared cache may keep it; clients revalidate.
        "Cache-Control": "private, no-cache",
        "Vary": "Accept-Encoding",
        "X-Robots-Tag": "noindex, nofollow",
    }
    if _not_modified(request, (valid.plain_etag, valid.gzip_etag), valid.seconds):
        return HttpResponse(status=304, headers=headers)

    body = _body(link.feed_key, valid.token, link.scope, link.owner_id, gz)
    response = HttpResponse(
        b"" if request.method == "HEAD" else body,
        content_type=CONTENT_TYPE,
        headers=headers,
    )
    response["Content-Disposition"] = f'inline; filename="{link.scope}.ics"'
    if gz:
        response["Content-Encoding"] = "gzip"
    if request.method == "HEAD":
        response["Content-Length"] = str(len(body))
    return response
