"""Article 6 Interoperability Gateway."""

__version__ = "0.1.0"
