"""The studies behind the published figures. Each runs as ``python -m experiments.<study>``, from
the repository root, and appends records to results/records/ (records.py); ``python -m
experiments.render`` renders results/README.md and its figures from those records."""
