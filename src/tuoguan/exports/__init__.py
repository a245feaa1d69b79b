"""Export jobs: large order exports written to a file by the worker (O5)."""
