"""Logging filters named in settings.LOGGING."""

import logging

from django.core.exceptions import PermissionDenied, SuspiciousOperation

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


# The loggers Django names after each SuspiciousOperation it answers with a 400
# (django.security.<class name>); a filter on "django.security" alone would not see them.
SUSPICIOUS_LOGGERS = [
    f"django.security.{name}"
    for name in (
        "DisallowedHost",
        "DisallowedRedirect",
        "InvalidSessionKey",
        "RequestDataTooBig",
        "SuspiciousFileOperation",
        "SuspiciousMultipartForm",
        "SuspiciousOperation",
        "SuspiciousSession",
        "TooManyFieldsSent",
        "TooManyFilesSent",
    )
]


class SuspiciousRequestFilter(logging.Filter):
    """A request Django refused as suspicious (a Host we do not serve, too many form
    fields) is answered with a 400, yet logged as an ERROR with a traceback: anyone
    could fill the log with them. Keep one WARNING line that says what was refused."""

    def filter(self, record):
        if record.exc_info and isinstance(record.exc_info[1], SuspiciousOperation):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True
