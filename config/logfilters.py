"""Logging filters named in settings.LOGGING."""

import logging

from django.core.exceptions import PermissionDenied

# uvicorn's words when a client sends a text frame that is not UTF-8 (it then closes with 1007).
INVALID_UTF8 = "Invalid UTF-8 sequence received from client"


class ClientFaultFilter(logging.Filter):
    """uvicorn logs a client's invalid UTF-8 frame as an ERROR with a traceback, though
    the server did its job (it closed that connection with 1007): anyone could fill the
    logs and trip alerts with them. Keep it as a one-line WARNING."""

    def filter(self, record):
        if record.getMessage().startswith(INVALID_UTF8):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


class RefusalFilter(logging.Filter):
    """Django logs a raised PermissionDenied (a ban, an owner-only action: a refusal the
    app chose) with its traceback, as if the server had failed. Keep its one line,
    "Forbidden (Permission denied): <path>", and the refusal's words."""

    def filter(self, record):
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.msg, record.args = f"{record.msg} (%s)", (*record.args, record.exc_info[1])
            record.exc_info, record.exc_text = None, None
        return True
