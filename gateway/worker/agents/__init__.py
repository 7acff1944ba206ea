"""The worker's agent families, one module each; ``install(rt)`` declares a family's agents,
timers and tables on the shared :class:`gateway.worker.runtime.Runtime`."""
