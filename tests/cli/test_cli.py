import subprocess
import sys

import pytest

from forecast.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "forecast.cli", *args], capture_output=True, text=True)


def test_help_does_not_import_torch():
    code = ("import sys; from forecast.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules, 'lightning' in sys.modules, 'pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.strip().splitlines()[-1] == "False False False"


def test_data_info_summarises_etth1(data_dir, capsys):
    assert main(["data", "info", str(data_dir / "ett" / "ETTh1.csv"), "--lookback", "336",
                 "--horizon", "96"]) == 0
    out = capsys.readouterr().out
    assert "rows: 17420" in out and "frequency: h" in out
    assert "time range: 2016-07-01 00:00:00 .. 2018-06-26 19:00:00" in out
    assert "  OT " in out and "missing 0" in out


def test_data_info_reads_registry_names(data_dir):
    done = run("data", "info", "stock:AAPL", "--target", "Adj Close")
    assert done.returncode == 0, done.stderr
    assert "frequency: B" in done.stdout and "46 timestamps missing" in done.stdout


def test_unknown_flag_is_bad_usage(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["data", "info", "x.csv", "--bogus"])
    assert caught.value.code == 2
