"""Full reports on real data (written to a folder of your choice, not committed)."""
