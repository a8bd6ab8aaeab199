"""What the Prefect flows in `flows/` are made of: tasks over the idbx functions, the task runner
(Dask when configured), secrets from Prefect blocks, and the run summary artifact.

The tasks live in the package rather than in `flows/` so that a Dask worker, which has `idbx`
installed but not the flows' folder, can unpickle them by reference.
"""
