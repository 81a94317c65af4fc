"""A Web Push service on loopback, for the tests: it plays both the push service
(checks the VAPID Authorization header, RFC 8292) and the browser behind it (its own
P-256 key pair and auth secret, decrypting each message, RFC 8291), and records what
arrived. Each endpoint answers with the statuses a test queues (201 once they run out).
"""

import base64
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """A browser's side of a subscription: the keys it gave the server."""

    path: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @classmethod
    def new(cls, path):
        return cls(
            path=path,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
        )

    def subscription(self, origin):
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": f"{origin}{self.path}",
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth_secret)},
        }


def browser_keys():
    """A subscription's keys as a browser makes them (for endpoints of no test server)."""
    return Device.new("/").subscription("")["keys"]


@dataclass
class Delivery:
    path: str
    status: int
    payload: dict  # decrypted
    claims: dict  # the VAPID JWT's, signature verified
    vapid_key: str  # the k= of the Authorization header
    ttl: str


class PushServer:
    def __init__(self):
        self.devices = {}
        self.deliveries = []
        self.failures = []  # requests that broke a rule: a test asserts there are none
        self.statuses = defaultdict(deque)
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def device(self):
        """A new browser subscription (the JSON its PushManager would give)."""
        device = Device.new(f"/push/{secrets.token_urlsafe(12)}")
        self.devices[device.path] = device
        return device.subscription(self.origin)

    def answer(self, subscription, *statuses):
        """The statuses the endpoint answers its next requests with, in turn."""
        path = subscription["endpoint"].removeprefix(self.origin)
        self.statuses[path].extend(statuses)

    def received(self, subscription=None):
        path = subscription and subscription["endpoint"].removeprefix(self.origin)
        return [delivery for delivery in self.deliveries if path is None or delivery.path == path]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/redirect":  # a push service that sends the request elsewhere
                    self.send_response(307)
                    self.send_header("Location", f"{server.origin}{next(iter(server.devices), '/')}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    status = server._receive(self.path, self.headers, body)
                except Exception as error:  # the test reads what went wrong
                    server.failures.append(f"{self.path}: {error!r}")
                    status = 400
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def _receive(self, path, headers, body):
        device = self.devices[path]
        claims, vapid_key = self._vapid(headers.get("Authorization", ""))
        assert headers.get("Content-Encoding") == "aes128gcm", headers.get("Content-Encoding")
        plain = http_ece.decrypt(
            body, private_key=device.private_key, auth_secret=device.auth_secret, version="aes128gcm"
        )
        with self.lock:
            status = self.statuses[path].popleft() if self.statuses[path] else 201
            self.deliveries.append(
                Delivery(path, status, json.loads(plain), claims, vapid_key, headers.get("TTL", ""))
            )
        return status

    def _vapid(self, authorization):
        """The claims of a valid `vapid t=<jwt>, k=<key>` header (RFC 8292), else AssertionError."""
        scheme, _, rest = authorization.partition(" ")
        assert scheme.lower() == "vapid", authorization
        parts = dict(part.strip().split("=", 1) for part in rest.split(","))
        token, key = parts["t"], parts["k"]
        header_part, claims_part, signature_part = token.split(".")
        assert json.loads(unb64url(header_part)) == {"typ": "JWT", "alg": "ES256"}
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        signature = unb64url(signature_part)
        assert len(signature) == 64
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public_key.verify(der, f"{header_part}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as error:
            raise AssertionError("the VAPID signature does not verify") from error
        claims = json.loads(unb64url(claims_part))
        assert claims["aud"] == self.origin, claims
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
        assert claims.get("sub"), claims
        return claims, key
