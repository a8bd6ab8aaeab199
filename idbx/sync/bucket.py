"""The one reader of S3: prefect-aws's `S3Bucket` block over the configured credentials.

botocore retries each request (standard mode: exponential back-off with jitter on throttling,
5xx and connection errors); what still fails is raised as `TransientS3Error` (try again later) or
`S3Error` (no point trying again), each naming the bucket and key, never a credential.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    ResponseStreamingError,
)
from prefect_aws import AwsClientParameters, AwsCredentials, S3Bucket
from s3transfer.exceptions import RetriesExceededError

from idbx.errors import ConfigError, S3Error, TransientS3Error
from idbx.lake.store import Lake
from idbx.sync.layout import url
from idbx.sync.settings import CREDENTIALS_BLOCK_ENV, SyncSettings

_TRANSIENT_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "InternalError",
    "ServiceUnavailable",
    "503",
    "500",
}
_CREDENTIAL_CODES = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "403"}


@dataclass(frozen=True)
class RemoteObject:
    bucket: str
    key: str
    size: int
    last_modified: datetime

    @property
    def url(self) -> str:
        return url(self.bucket, self.key)


def aws_credentials(settings: SyncSettings) -> AwsCredentials:
    """The named `AwsCredentials` block, else boto3's usual chain; with our retries and endpoint."""
    if settings.credentials_block:
        try:
            credentials = AwsCredentials.load(settings.credentials_block)
        except ValueError as exc:
            raise ConfigError(
                f"{CREDENTIALS_BLOCK_ENV}: no AwsCredentials block named {settings.credentials_block!r} ({exc})"
            ) from None
    else:
        credentials = AwsCredentials()
    parameters = credentials.aws_client_parameters
    config = {"retries": {"mode": "standard", "total_max_attempts": settings.attempts}, "connect_timeout": 10, "read_timeout": 60}
    fields = parameters.model_dump(exclude_none=True) | {"config": config | (parameters.config or {})}
    if settings.endpoint_url:
        fields["endpoint_url"] = settings.endpoint_url
    credentials.aws_client_parameters = AwsClientParameters(**fields)
    return credentials


@contextmanager
def s3_errors(what: str) -> Iterator[None]:
    """Turn botocore's and s3transfer's exceptions into one-line errors about `what` (a URL)."""
    try:
        yield
    except NoCredentialsError:
        raise ConfigError(
            f"{what}: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), "
            f"or name an AwsCredentials block in {CREDENTIALS_BLOCK_ENV}"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "unknown"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in _TRANSIENT_CODES or status >= 500:
            raise TransientS3Error(what, f"S3 answered {code} (HTTP {status}) to every attempt") from None
        if code == "NoSuchBucket":
            raise S3Error(what, "no such bucket (check the bucket settings)") from None
        if code in _CREDENTIAL_CODES:
            raise S3Error(what, f"access refused ({code}): check the AWS credentials and the bucket's policy") from None
        if code in ("NoSuchKey", "404"):
            raise S3Error(what, "no such object (removed since it was listed?)") from None
        raise S3Error(what, f"S3 answered {code}: {error.get('Message', '')}".rstrip(": ")) from None
    except (HTTPClientError, IncompleteReadError, ResponseStreamingError, RetriesExceededError) as exc:
        raise TransientS3Error(what, f"S3 could not be reached or the transfer broke off ({type(exc).__name__})") from None
    except BotoCoreError as exc:
        raise S3Error(what, str(exc)) from None


class Bucket:
    """One bucket: list, download (aside, then renamed into place), upload."""

    def __init__(self, name: str, settings: SyncSettings):
        self.name = name
        self.block = S3Bucket(bucket_name=name, credentials=aws_credentials(settings))
        # prefect-aws logs every listing and transfer at INFO; outside a flow run that is noise.
        logging.getLogger("prefect.S3Bucket").setLevel(logging.WARNING)

    def list(self, prefix: str) -> list[RemoteObject]:
        with s3_errors(url(self.name, prefix)):
            found = self.block.list_objects(folder=prefix)
        return [
            RemoteObject(self.name, item["Key"], int(item["Size"]), item["LastModified"])
            for item in found
            if item["Key"].startswith(prefix) and not item["Key"].endswith("/")
        ]

    def download(self, item: RemoteObject, target: Path, lake: Lake) -> None:
        """Fetch aside beside `target`, check the size, stamp S3's time, then rename into place:
        `target` is absent or complete, never partial."""
        with lake.writing(target) as tmp:
            with s3_errors(item.url):
                self.block.download_object_to_path(item.key, tmp)
            size = tmp.stat().st_size
            if size != item.size:
                raise TransientS3Error(item.url, f"transfer ended at {size:,} of {item.size:,} bytes")
            stamp = item.last_modified.timestamp()
            os.utime(tmp, (stamp, stamp))

    def upload(self, path: Path, key: str) -> None:
        with s3_errors(url(self.name, key)):
            self.block.upload_from_path(path, key)

    def create(self) -> None:
        """Make the bucket if it does not exist (the sample and the quickstart's local server)."""
        client = self.block.credentials.get_s3_client()
        with s3_errors(url(self.name, "")):
            try:
                client.head_bucket(Bucket=self.name)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                    raise
                client.create_bucket(Bucket=self.name)


def is_current(item: RemoteObject, copy: Path) -> bool:
    """The landing copy is this very object: same size, stamped with the object's S3 time."""
    try:
        stat = copy.stat()
    except FileNotFoundError:
        return False
    return stat.st_size == item.size and int(stat.st_mtime) == int(item.last_modified.timestamp())
