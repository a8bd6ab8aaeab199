"""What the commands print never names a learner: the sample pipeline, and inputs broken in the
ways that make a reader quote what it read, with every line of stdout and stderr searched for
the sample's usernames, emails, names and IPs. The data itself stays in the lake (rejects hold
the raw text) and `idbx query` prints what it is asked for, so neither is searched here."""

import gzip
import re
import shutil

import pytest

from idbx.local.sample import PII_PATTERN
from tests.cli.test_cli import run
from tests.conftest import SAMPLE_PSEUDONYM_KEY

PII = re.compile(PII_PATTERN)


def assert_no_pii(*runs) -> None:
    for done in runs:
        for stream in (done.stdout, done.stderr):
            found = PII.search(stream)
            assert found is None, f"{done.args[1:3]} printed {found.group(0)!r}:\n{stream}"


def test_the_sample_pipeline_prints_no_pii(sample, tmp_path, gpg_env):
    lake = str(tmp_path / "lake")
    made = run("sample", str(tmp_path / "sample"), "--courses", "2", "--learners", "30", "--days", "1")
    package = run("ingest", "package", str(sample.package), "--lake", lake, env=gpg_env)
    events = run("ingest", "events", *map(str, sample.event_logs), "--lake", lake, env=gpg_env)
    assert package.returncode in (0, 1) and events.returncode == 0 and "rejected" in events.stderr
    keyed = {**gpg_env, "IDBX_PSEUDONYM_KEY": SAMPLE_PSEUDONYM_KEY}
    built = run("build", "--lake", lake, env=keyed)
    named = run("report", "masterfile", "--lake", lake, "--include-pii", "-o", str(tmp_path / "m.csv"), env=keyed)
    assert built.returncode == 0 and named.returncode == 0, built.stderr + named.stderr
    scrubbed = run("scrub", "--lake", lake, "--older-than", "0")
    assert scrubbed.returncode == 0
    runs = [made, package, events, built, named, scrubbed]
    assert_no_pii(*runs)


@pytest.fixture
def broken(tmp_path):
    """Inputs whose bad parts are learner data: rejected rows, failed files, unreadable lines."""
    folder = tmp_path / "idbx-2016-08-01"
    folder.mkdir()
    (folder / "IDBx-IDB1x-2T2014-auth_user-prod-analytics.sql").write_text(
        "id\tusername\tfirst_name\tlast_name\temail\tpassword\tis_staff\tis_active\tis_superuser\tlast_login\tdate_joined\n"
        "learner7\tlearner7\tAna\tPérez\tlearner7@example.org\tx\t0\t1\t0\tNULL\t2016-01-01 00:00:00\n"
        "8\tlearner8\tJosé\tGómez\tlearner8@example.org\tx\t0\t1\t0\tNULL\tlearner8@example.org\n"
        "9\tlearner9\tLuis\tNuñez\tlearner9@example.org\tx\t0\tlearner9\n"
    )
    (folder / "IDBx-IDB1x-2T2014-student_courseenrollment-prod-analytics.sql").write_text(
        "CREATE TABLE `student_courseenrollment` (`id` int, `user_id` int);\n"
        "INSERT INTO `student_courseenrollment` VALUES (1, 'learner3@example.org' 'Ana Pérez', ;\n"
    )
    (folder / "IDBx-IDB1x-2T2014-user_id_map-prod-analytics.sql").write_text("hash_id\tid\n")
    (folder / "IDBx-IDB1x-2T2014-certificates_generatedcertificate-prod-analytics.sql").write_text(  # no header row
        "1\t5\thttps://courses.edx.org/certificates/learner5\t0.90\tIDBx/IDB1x/2T2014\tk\t0\tdownloadable\tv\td\tLearner 5\n"
    )
    (folder / "IDBx-IDB1x-2T2014-auth_userprofile-prod-analytics.sql").write_text("learner6\tlearner6\n")
    (folder / "IDBx-IDB1x-2T2014-course_forum.mongo").write_text(
        '{"_id": {"$oid": "a1"}, "_type": "CommentThread", "author_id": "learner4", "author_username": "learner4", "body": "Soy '
        'Ana Pérez"}\n'
        '{"_id": {"$oid": "a2"}, "_type": "learner5@example.org", "author_username": "learner5"}\n'
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    bad_times = b"".join(
        b'{"username": "learner%d", "ip": "190.%d.3.7", "time": "learner%d@example.org", "event_type": "x"}\n' % (n, n, n)
        for n in range(3)
    )
    (logs / "idbx-edx-events-2016-08-01.log.gz").write_bytes(gzip.compress(bad_times))
    half = gzip.compress(
        b'{"username": "learner1", "ip": "190.1.1.7", "time": "2016-08-02T00:00:00Z", "event_type": "x"}\n' * 500
    )
    (logs / "idbx-edx-events-2016-08-02.log.gz").write_bytes(half[: len(half) // 2])
    (logs / "idbx-edx-events-2016-08-03.log").write_bytes(
        b'{"username": "learner2", "ip": "190.2.2.7", "time": 5}\n\xff learner2\n'
    )
    return folder, logs


def test_failures_and_rejects_are_reported_without_pii(broken, tmp_path):
    folder, logs = broken
    lake = str(tmp_path / "lake")
    package = run("ingest", "package", str(folder), "--lake", lake)
    events = run("ingest", "events", str(logs), "--lake", lake)
    assert package.returncode == 1 and "failed" in package.stderr and "rejected" in package.stderr
    assert events.returncode == 1 and events.stderr.count("failed") >= 3
    assert_no_pii(package, events)
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    assert "learner7@example.org" in (copy / "IDBx-IDB1x-2T2014-auth_user-prod-analytics.sql").read_text()  # the data was there
