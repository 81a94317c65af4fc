"""HTTP requests to hosts that someone else chose (a browser's push endpoint, a link in a
message), below all apps.

Such a URL may point inside our network (169.254.169.254, 10.x, loopback): checking
what its host resolves to before the request is not enough, since DNS may answer
differently a moment later (DNS rebinding). A CheckedSession therefore judges every
connection by the address it actually reached, before a byte is sent, and refuses
(raises) when the caller's predicate says no. It takes no proxy from the environment,
so the checked peer is the server itself.
"""

import ipaddress
import socket

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class AddressRefused(ValueError):
    """A connection reached an address the caller does not allow. A ValueError, not an
    OSError: requests passes it through as it is instead of as a failed connection."""


def plain_address(address):
    """An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it carries."""
    return getattr(address, "ipv4_mapped", None) or address


def public_address(address):
    """Is `address` one on the public internet? Global (not private, loopback, link-local,
    shared or documentation space) and neither multicast nor reserved, which Python's
    is_global lets through; an IPv6 address that carries an IPv4 one (6to4, Teredo) is
    judged by that one too."""
    address = plain_address(address)
    carried = [getattr(address, "sixtofour", None), *(getattr(address, "teredo", None) or ())]
    if any(inner is not None and not public_address(inner) for inner in carried):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def parse_address(text):
    """An address as getaddrinfo or getpeername spell it (an IPv6 zone dropped), plain."""
    return plain_address(ipaddress.ip_address(text.split("%")[0]))


def resolve(host, port):
    """The plain addresses `host` resolves to (a set; empty if none). Raises OSError or
    UnicodeError when it does not resolve."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return {parse_address(info[4][0]) for info in found}


class _PeerChecked:
    """A urllib3 connection that closes and refuses a socket whose peer is not allowed."""

    peer_allowed = staticmethod(lambda address: False)
    refusal = staticmethod(lambda: AddressRefused("The host resolved to an address that is not allowed."))
    connected = staticmethod(lambda sock: None)

    def _new_conn(self):
        sock = super()._new_conn()
        if not self.peer_allowed(parse_address(sock.getpeername()[0])):
            sock.close()
            raise self.refusal()
        self.connected(sock)
        return sock


def _checked_adapter(*, allowed, refusal, connected):
    """An HTTPAdapter whose pools make only peer-checked connections."""
    hooks = {
        "peer_allowed": staticmethod(allowed),
        "refusal": staticmethod(refusal),
        "connected": staticmethod(connected),
    }
    http = type("CheckedHTTPConnection", (_PeerChecked, HTTPConnection), hooks)
    https = type("CheckedHTTPSConnection", (_PeerChecked, HTTPSConnection), hooks)
    pools = {
        "http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }

    class CheckedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

    return CheckedAdapter()


class CheckedSession(requests.Session):
    """A requests Session that connects only to addresses for which `allowed(address)`
    (an ipaddress object, IPv4-mapped ones made plain) is true, checked on each new
    connection; otherwise `refusal()` (an exception) is raised. `connected(sock)` is told
    of each accepted socket (to bound a whole exchange's time, for instance)."""

    def __init__(self, *, allowed, refusal=None, connected=None):
        super().__init__()
        self.trust_env = False
        adapter_hooks = {
            "allowed": allowed,
            "refusal": refusal or _PeerChecked.refusal,
            "connected": connected or _PeerChecked.connected,
        }
        for scheme in ("http://", "https://"):
            self.mount(scheme, _checked_adapter(**adapter_hooks))
