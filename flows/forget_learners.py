"""`forget-learners`: erase learners on request (`idbx forget`), with the same options as
parameters. Started by hand for each request; a run stopped or crashed is completed by the next
one (started with no identifiers to only finish it). Its artifact names no learner."""

from __future__ import annotations

from prefect import flow

from idbx.config import lake_root
from idbx.orchestration.tasks import forget_learners_task
from idbx.privacy.erasure import DEIDENTIFY
from idbx.privacy.forget import ForgetSummary


@flow(name="forget-learners")
def forget_learners(
    usernames: list[str] | None = None,
    emails: list[str] | None = None,
    user_ids: list[int] | None = None,
    from_files: list[str] | None = None,
    mode: str = DEIDENTIFY,
    dry_run: bool = False,
    purge_landing: bool = False,
    lake: str | None = None,
) -> ForgetSummary:
    """`from_files`: paths (on the worker) of files of identifiers, one a line; `mode`: deidentify or delete."""
    return forget_learners_task(
        str(lake_root(lake)), usernames or [], emails or [], user_ids or [], from_files or [], mode, dry_run, purge_landing
    )
