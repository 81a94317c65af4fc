"""A real SMTP server on loopback for the tests of email (aiosmtpd, in a thread of
the test process): mails travel through Django's SMTP backend and the network, and
come back parsed by the email package."""

import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: keeps every mail it receives, in order."""

    def __init__(self):
        self._lock = threading.Lock()
        self._received = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self._lock:
            self._received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def mails(self):
        """[(recipients, email.message.EmailMessage)] received so far."""
        with self._lock:
            return list(self._received)

    def clear(self):
        with self._lock:
            self._received.clear()


@pytest.fixture(scope="session")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.inbox = inbox
    yield controller
    controller.stop()


@pytest.fixture
def smtp(smtp_server, settings):
    """The inbox of the test's SMTP server, with Django sending there over SMTP."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.hostname
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    smtp_server.inbox.clear()
    yield smtp_server.inbox
    smtp_server.inbox.clear()
