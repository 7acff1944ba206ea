"""The auditors' HTTPS API (read-only): models, server, client."""
