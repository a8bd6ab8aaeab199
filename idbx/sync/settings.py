"""Where edX's deliveries are: buckets, prefixes, org and how to reach S3, from options or the environment.

Credentials are not settings here: they come from a Prefect `AwsCredentials` block named by
IDBX_AWS_CREDENTIALS_BLOCK, else from boto3's usual chain (AWS_ACCESS_KEY_ID, AWS_PROFILE, an
instance role...). Only the block's name is held, never a key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from idbx.errors import ConfigError

ORG_ENV = "IDBX_ORG"
EVENTS_BUCKET_ENV = "IDBX_S3_EVENTS_BUCKET"
EVENTS_PREFIX_ENV = "IDBX_S3_EVENTS_PREFIX"
COURSE_DATA_BUCKET_ENV = "IDBX_S3_COURSE_DATA_BUCKET"
COURSE_DATA_PREFIX_ENV = "IDBX_S3_COURSE_DATA_PREFIX"
CREDENTIALS_BLOCK_ENV = "IDBX_AWS_CREDENTIALS_BLOCK"
CATCH_UP_DAYS_ENV = "IDBX_SYNC_CATCH_UP_DAYS"
# boto3's own variables for a non-AWS endpoint (a local S3 server); read here so that the
# endpoint is part of the client's identity in prefect-aws's client cache.
ENDPOINT_ENVS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")

# edX's layout: s3://edx-course-data/{org}/edx/events/{YYYY}/{org}-edx-events-{date}.log.gz.gpg
# and s3://course-data/{org}-{date}.zip
DEFAULTS = {
    ORG_ENV: "idbx",
    EVENTS_BUCKET_ENV: "edx-course-data",
    EVENTS_PREFIX_ENV: "{org}/edx/events/",
    COURSE_DATA_BUCKET_ENV: "course-data",
    COURSE_DATA_PREFIX_ENV: "",
    CATCH_UP_DAYS_ENV: "90",
}
# Attempts per S3 request (botocore's standard retry mode: exponential back-off with jitter on
# throttling, 5xx and connection errors).
S3_ATTEMPTS = 5


def _setting(option: object, env: str) -> str:
    return str(option) if option is not None else os.environ.get(env) or DEFAULTS.get(env, "")


@dataclass(frozen=True)
class SyncSettings:
    org: str
    events_bucket: str
    events_prefix: str
    course_data_bucket: str
    course_data_prefix: str
    endpoint_url: str | None
    credentials_block: str | None
    catch_up_days: int
    attempts: int = S3_ATTEMPTS

    @classmethod
    def resolve(
        cls,
        org: str | None = None,
        events_bucket: str | None = None,
        events_prefix: str | None = None,
        course_data_bucket: str | None = None,
        course_data_prefix: str | None = None,
        endpoint_url: str | None = None,
        catch_up_days: int | None = None,
    ) -> SyncSettings:
        """Each setting from its option, else its environment variable, else edX's layout."""
        org = _setting(org, ORG_ENV)
        prefix = _setting(events_prefix, EVENTS_PREFIX_ENV)
        try:
            prefix = prefix.format(org=org)
        except (KeyError, IndexError, ValueError):
            raise ConfigError(f"{EVENTS_PREFIX_ENV}: {prefix!r} may use only {{org}}") from None
        days = _setting(catch_up_days, CATCH_UP_DAYS_ENV)
        if not days.isdigit() or int(days) < 1:
            raise ConfigError(f"{CATCH_UP_DAYS_ENV}: {days!r} is not a positive number of days")
        endpoint = endpoint_url or next((os.environ[e] for e in ENDPOINT_ENVS if os.environ.get(e)), None)
        settings = cls(
            org=org,
            events_bucket=_setting(events_bucket, EVENTS_BUCKET_ENV),
            events_prefix=_folder(prefix),
            course_data_bucket=_setting(course_data_bucket, COURSE_DATA_BUCKET_ENV),
            course_data_prefix=_folder(_setting(course_data_prefix, COURSE_DATA_PREFIX_ENV)),
            endpoint_url=endpoint,
            credentials_block=os.environ.get(CREDENTIALS_BLOCK_ENV) or None,
            catch_up_days=int(days),
        )
        for name, value in (
            ("org", settings.org),
            ("events bucket", settings.events_bucket),
            ("course-data bucket", settings.course_data_bucket),
        ):
            if not value or "/" in value:
                raise ConfigError(f"{name}: {value!r} is not a name")
        return settings


def _folder(prefix: str) -> str:
    """A key prefix that names a folder: no leading slash, one trailing slash (or empty)."""
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""
