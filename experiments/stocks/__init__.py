"""Walk-forward skill and trading on 40 tickers against the random walk."""
