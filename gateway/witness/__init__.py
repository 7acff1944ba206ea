"""A C2SP tlog-witness (``a6gw witness serve``): checks each new checkpoint of a log it
trusts against the last one it cosigned and cosigns it (cosignature/v1).

:mod:`.protocol` is the pure add-checkpoint logic, :mod:`.state` the durable latest
checkpoint per origin, :mod:`.config` the config file, :mod:`.server` the HTTPS server.
"""
