"""The pure core: checks, block algebra, canonical encoding and signing over plain values."""
