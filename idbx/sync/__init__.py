"""Fetching edX's deliveries from S3 into `lake/landing/`: the CLI's `idbx sync` and the flows call these."""
