"""`idbx geoip`: the operator's check of the country-by-IP database."""

from tests.cli.test_cli import run


def test_geoip_names_the_database_and_answers(monkeypatch):
    monkeypatch.delenv("IDBX_GEOIP_DB", raising=False)
    done = run("geoip", "193.0.6.139", "192.168.0.9", "not-an-ip")
    assert done.returncode == 0, done.stderr
    assert "database: iptocc" in done.stderr
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in done.stdout.splitlines() if line.count("│") == 3}
    assert rows == {"193.0.6.139": "NL", "192.168.0.9": "unknown", "not-an-ip": "unknown"}


def test_geoip_refuses_an_unusable_file(tmp_path, monkeypatch):
    path = tmp_path / "GeoLite2-Country.mmdb"
    path.write_bytes(b"\0" * 100)
    monkeypatch.setenv("IDBX_GEOIP_DB", str(path))
    done = run("geoip")
    assert done.returncode == 2
    assert done.stderr.startswith("error:") and str(path) in done.stderr and "Traceback" not in done.stderr
