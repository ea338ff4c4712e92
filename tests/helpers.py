"""A corpus of malformed CSV files: (name, content, read options, expected message fragment)."""

DAYS = [f"2020-01-{day:02d}" for day in range(1, 10)]


def rows(values, dates=DAYS):
    return "".join(f"{d},{v}\n" for d, v in zip(dates, values))


CORPUS = [
    ("empty", "", {}, "file is empty"),
    ("blank_lines_only", "\n\n  \n", {}, "file is empty"),
    ("header_only", "date,v\n", {}, "no data rows (only a header)"),
    ("no_time_column", "a,b\n1,2\n3,4\n5,6\n", {}, "no time column found"),
    ("unparsable_date", "date,v\n2020-01-01,1\nnot a date,2\n2020-01-03,3\n", {},
     "column 'date' line 3: cannot parse 'not a date' as a timestamp"),
    ("empty_timestamp", "date,v\n2020-01-01,1\n,2\n2020-01-03,3\n", {},
     "column 'date' line 3: empty timestamp"),
    ("duplicated_timestamps", "date,v\n" + rows([1, 2, 3], ["2020-01-01", "2020-01-02", "2020-01-02"]),
     {}, "duplicated timestamp 2020-01-02 00:00:00 at line 4"),
    ("unsorted", "date,v\n" + rows([1, 2, 3, 4], ["2020-01-01", "2020-01-03", "2020-01-02", "2020-01-04"]),
     {}, "timestamps out of order: line 4 (2020-01-02 00:00:00) comes after 2020-01-03"),
    ("non_numeric_target", "date,v\n" + rows([1, "abc", 3]), {}, "column 'v' line 3: 'abc' is not a number"),
    ("all_nan_target", "date,v,w\n" + "".join(f"{d},,1\n" for d in DAYS[:4]), {"target": "v"},
     "column 'v' has no values (all missing)"),
    ("infinite_value", "date,v\n" + rows([1, "inf", 3]), {}, "column 'v' line 3: infinite value"),
    ("missing_value", "date,v\n" + rows([1, "", 3, 4]), {},
     "column 'v' has 1 missing values, first at line 3"),
    ("too_short", "date,v\n" + rows([1, 2, 3, 4, 5]), {"min_rows": 7}, "5 rows; at least 7 are needed"),
    ("unknown_target", "date,v\n" + rows([1, 2, 3]), {"target": "price"},
     "column 'price' not found; columns are: date, v"),
    ("ragged_rows", "date,v\n2020-01-01,1\n2020-01-02,2,9\n2020-01-03,3\n", {},
     "line 3 has 3 fields, the header has 2"),
    ("text_only_target", "date,name\n" + rows(["a", "b", "c"]), {}, "no numeric target column"),
]


def cli_options(options: dict) -> list[str]:
    """The `forecast data info` flags that ask for the same as read_series options."""
    flags = []
    if "target" in options:
        flags += ["--target", options["target"]]
    if "min_rows" in options:  # a window of lookback + horizon rows must fit
        flags += ["--lookback", str(options["min_rows"] - 1), "--horizon", "1"]
    return flags
