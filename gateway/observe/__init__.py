"""Observability: Prometheus metrics and the health endpoints of every long-running process.

- :mod:`gateway.observe.metrics`: every metric the worker, the API and the ingress export
  (one registry, names prefixed ``a6gw_``); ``docs/metrics.md`` is generated from it
  (:mod:`gateway.observe.docs`);
- :mod:`gateway.observe.tally`: what the worker's hooks count, per batch (audit entries by
  kind, outcome and code; partition positions);
- :mod:`gateway.observe.health`: readiness as named checks, and a producer's connection;
- :mod:`gateway.observe.http`: the request metrics of an aiohttp server (a middleware);
- :mod:`gateway.observe.server`: the plain-HTTP server of ``/metrics``, ``/livez`` and
  ``/readyz``, in a thread of its own beside the process's event loop.
"""
