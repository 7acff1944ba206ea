"""HTTPS connectors for partner registries that do not run a Kafka client.

- :mod:`connectors.httpsig`: RFC 9421 HTTP Message Signatures (Ed25519) with an RFC 9530
  ``Content-Digest`` (pure);
- :mod:`connectors.policy`: backoff with full jitter, retry budgets, what is retryable, and
  a circuit breaker per partner (pure);
- :mod:`connectors.client`: ``PartnerClient``, one signed, mutually authenticated, retried
  ``httpx.AsyncClient`` per partner;
- :mod:`connectors.partner_sim`: a reference partner registry for tests and the demo.

The gateway's side (delivery agents, the ingress) is in ``gateway.worker.delivery`` and
``gateway.ingress``.
"""
