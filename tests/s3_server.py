"""A real S3-speaking server for the tests: moto's server mode on loopback.

moto's ThreadedMotoServer serves the S3 API over HTTP from a thread of the test
process; everything reaches it through sockets (boto3 in the app, the browser, plain
urllib), as it would reach a real store: nothing of boto3 is patched. It starts once,
the first time a test asks for it, and stops at the end of the session.

Limits of moto worth knowing: it checks that a presigned URL carries a signature, not
that the signature is right or the URL unexpired; tests read the expiry from the URL.

Fixtures (tests/conftest.py):
    s3_server -> S3Server          the session's server
    s3_storage -> S3Bucket         a fresh bucket, and STORAGES["default"] on it for one test

For a server subprocess (tests/live_server.py), S3Server.environment(bucket) gives the
AWS_* variables that make its config/settings.py pick the same bucket.
"""

import logging
import secrets
from dataclasses import dataclass

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from config.settings import s3_storage
from tests.live_server import free_port

HOST = "127.0.0.1"
REGION = "us-east-1"
# moto takes any credentials; these say where they come from.
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"


@dataclass
class S3Bucket:
    name: str
    server: "S3Server"

    def client(self):
        return self.server.client()

    def read(self, key):
        return self.client().get_object(Bucket=self.name, Key=key)["Body"].read()

    def object_keys(self):
        listing = self.client().list_objects_v2(Bucket=self.name)
        return sorted(entry["Key"] for entry in listing.get("Contents", ()))

    def url(self, key):
        """The object's plain, unsigned URL (what an anonymous visitor would try)."""
        return f"{self.server.endpoint_url}/{self.name}/{key}"


class S3Server:
    def __init__(self):
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address=HOST, port=self.port, verbose=False)
        self._server.start()

    @property
    def endpoint_url(self):
        return f"http://{HOST}:{self.port}"

    def stop(self):
        self._server.stop()

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(signature_version="s3v4"),
        )

    def new_bucket(self):
        bucket = S3Bucket(name=f"chat-test-{secrets.token_hex(6)}", server=self)
        self.client().create_bucket(Bucket=bucket.name)
        return bucket

    def drop_bucket(self, bucket):
        client = self.client()
        for key in bucket.object_keys():
            client.delete_object(Bucket=bucket.name, Key=key)
        client.delete_bucket(Bucket=bucket.name)

    def storage_setting(self, bucket):
        """STORAGES["default"] for `bucket`: the settings' own S3 configuration."""
        return s3_storage(
            bucket.name,
            endpoint_url=self.endpoint_url,
            region=REGION,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
        )

    def use(self, settings, bucket):
        """Put this test process's default storage on `bucket` (pytest-django's
        `settings` fixture, which undoes it after the test)."""
        settings.STORAGES = {**settings.STORAGES, "default": self.storage_setting(bucket)}

    def environment(self, bucket):
        """Environment variables that put a server process on `bucket`."""
        return {
            "AWS_STORAGE_BUCKET_NAME": bucket.name,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }
