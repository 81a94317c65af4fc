"""Write this server's VAPID key pair (Web Push) to the development key file."""

import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand

from notifications.push import vapid_keys_generate, vapid_keys_valid


class Command(BaseCommand):
    help = (
        "Generate a VAPID key pair into VAPID_KEYS_FILE (read in development when "
        "VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are unset). In production, set those instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing", action="store_true", help="Keep the file's pair when it holds a valid one."
        )

    def handle(self, *args, if_missing=False, **options):
        path = settings.VAPID_KEYS_FILE
        if if_missing and self._valid_pair_in(path):
            self.stdout.write(f"VAPID keys: kept {path}")
            return
        keys = vapid_keys_generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Readable by this user only: the private key signs every push.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(keys, file, indent=2)
        self.stdout.write(f"VAPID keys: wrote {path} (public key {keys['public_key']})")

    def _valid_pair_in(self, path):
        try:
            return vapid_keys_valid(json.loads(path.read_text()))
        except (OSError, ValueError, AttributeError):
            return False
