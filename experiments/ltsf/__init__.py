"""The LTSF table, its ablations and the configuration search (protocol.py holds what they share)."""
