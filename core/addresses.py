"""The client's address, read one way everywhere: the API's throttles, the
feed throttle, django-axes' login lockouts and the audit trail.

Behind TRUSTED_PROXIES reverse proxies (REST_FRAMEWORK NUM_PROXIES) it is the
address that many hops back in X-Forwarded-For, exactly as DRF's throttles
read it; without proxies it is REMOTE_ADDR and the header, which any client
can forge, is ignored. Counting the proxy's own address instead would let
five anonymous requests lock any account for everyone.
"""

import functools
import ipaddress
from typing import Any

from rest_framework.throttling import BaseThrottle

# DRF's own reading of NUM_PROXIES, so the throttles and this never differ.
_drf = BaseThrottle()


@functools.lru_cache(maxsize=4096)
def _is_address(text: str) -> bool:
    # Cached: parsing costs a feed poll more than the rest of this module.
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_address(request: Any) -> str:
    """The client's address, or REMOTE_ADDR when the hop read from
    X-Forwarded-For is not an address (a request that bypassed the proxies
    and forged the header): never a string a database's inet column refuses.
    """
    remote: str = request.META.get("REMOTE_ADDR") or ""
    ident: str = _drf.get_ident(request) or ""
    return ident if _is_address(ident) else remote
