"""The stream worker (faust).

- ``app``: ``create_app`` builds the :class:`~gateway.worker.runtime.Runtime` and installs
  each agent family of ``agents`` (ingest, ledger, oversight, timers, sequencer, delivery,
  watchdog) on it;
- the agents' edges: ``batches`` (a fetch decided as a batch), ``batched`` (tables whose
  changelog takes a record per batch: ``inputs``, ``decisions``), ``memory`` (the ledger's
  state in memory and its rebuild from the decisions), ``faults`` (the shield), ``gaps``
  (the contiguity guard), ``sealed`` (MACs), ``sequencing`` (the audit writer),
  ``delivery`` (HTTPS partners), ``watch`` (the watchdog's rules), ``context`` (keys,
  trust, directory);
- the process: ``run`` (the command and its supervisor), ``process`` (a worker as a child
  process, for the demo and tests), ``exits`` (its exit statuses).
"""
