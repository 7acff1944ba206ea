"""``a6gw config check``: the config, trust file, keys, credentials, TLS files and file
stores, checked offline (:mod:`.check`) and, on request, against the broker and PostgreSQL
(:mod:`.online`); every problem named with a code, its file and a hint (:mod:`.report`)."""
