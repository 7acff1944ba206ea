"""The ``a6gw`` command line: argparse only, one module per command group; the work is done by
the services it calls. The entry point is :func:`gateway.cli.main.main`."""
