"""The stream worker (faust)."""
