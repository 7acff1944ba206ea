"""The use cases the command line, the API and the demo call: reporting (AEF and structured
summary), reconciliation and its snapshots, the discrepancies read model and operator
commands, lag and dead letters. No argparse, aiohttp or faust here."""
