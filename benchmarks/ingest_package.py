"""Benchmark: `idbx ingest package` vs plain DuckDB read_csv -> COPY TO parquet, same decrypted file.

Generates a delivery with one course whose courseware_studentmodule has ROWS rows (default
2,000,000), then, in the same run and each in its own process (so peak memory is per process):
  baseline  read_csv(decrypted .sql) -> COPY TO parquet (zstd), DuckDB defaults
  idbx      idbx ingest package on the encrypted zip holding only that file (decrypt, hash, parse,
            type, unescape, rejects, write, manifest, catalog)
Prints rows/s for both, their ratio and peak RSS (see measure.py); record them in
benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/ingest_package.py [--rows N] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import zipfile
from pathlib import Path

from measure import machine, timed

from idbx.config import GpgSettings
from idbx.ingest.crypto import Decryptor
from idbx.local.sample import write_sample
from idbx.parsers.naming import table_file_name

BASELINE = """
import duckdb, sys
con = duckdb.connect()
con.execute(
    f"COPY (SELECT * FROM read_csv('{sys.argv[1]}', delim='\\t', quote='', escape='', header=true, nullstr='NULL')) "
    f"TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)"
)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--work", type=Path, default=Path("benchmarks/work"))
    parser.add_argument("--compare", type=Path, help="another checkout of idbx (before a change, say) to run side by side")
    args = parser.parse_args()
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    t = time.perf_counter()
    sample = write_sample(work / "sample", courses=1, learners=max(100, args.rows // 20), studentmodule_rows=args.rows)
    print(f"generated in {time.perf_counter() - t:.1f} s")
    name = table_file_name(sample.course_ids[0], "courseware_studentmodule")
    delivery = work / sample.package.name
    with zipfile.ZipFile(sample.package) as src, zipfile.ZipFile(delivery, "w") as dst:
        member = next(n for n in src.namelist() if n.endswith(name))
        dst.writestr(member, src.read(member))
    plain = work / name.removesuffix(".gpg")
    with Decryptor(GpgSettings(sample.key_file, sample.passphrase)) as decryptor, zipfile.ZipFile(delivery) as z:
        decryptor.decrypt(z.open(member), plain, name)
    print(f"encrypted {delivery.stat().st_size / 1e6:.0f} MB, decrypted {plain.stat().st_size / 1e6:.0f} MB")

    base_s, base_mb = timed([sys.executable, "-P", "-c", BASELINE, str(plain), str(work / "baseline.parquet")])
    env = {**os.environ, "IDBX_GPG_PASSPHRASE": sample.passphrase}
    idbx = str(Path(sys.executable).with_name("idbx"))
    ours_s, ours_mb = timed(
        [idbx, "ingest", "package", str(delivery), "--lake", str(work / "lake"), "--gpg-key", str(sample.key_file)], env
    )
    if args.compare:
        other_s, other_mb = timed(
            [idbx, "ingest", "package", str(delivery), "--lake", str(work / "lake-compare"), "--gpg-key", str(sample.key_file)],
            {**env, "PYTHONPATH": str(args.compare.resolve())},
        )

    rows = args.rows
    print(machine())
    print(f"baseline read_csv->parquet : {base_s:6.2f} s  {rows / base_s:>10,.0f} rows/s  peak {base_mb:,.0f} MB")
    print(f"idbx ingest package (gpg)  : {ours_s:6.2f} s  {rows / ours_s:>10,.0f} rows/s  peak {ours_mb:,.0f} MB")
    print(f"ratio idbx/baseline        : {base_s / ours_s:.2f}x")
    if args.compare:
        print(f"same, {args.compare.name:<21}: {other_s:6.2f} s  {rows / other_s:>10,.0f} rows/s  peak {other_mb:,.0f} MB")


if __name__ == "__main__":
    main()
