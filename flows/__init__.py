"""Prefect flows: thin orchestration over `idbx` (see idbx/orchestration), deployed by prefect.yaml."""
