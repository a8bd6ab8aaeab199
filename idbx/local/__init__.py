"""A programme on one machine, without edX, S3 or MongoDB: the generated sample delivery (sample)
and the local servers that stand in for the real ones in tests, the quickstart and the
benchmarks, each started on a free port and stopped by its pid (services: moto S3, Prefect;
mongo: SecantusDB)."""
