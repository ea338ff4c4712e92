"""The run configuration: one definition of every setting, one validator, the Forecaster's
keywords and the command's flags generated from it."""

import inspect

import pytest

import forecast
from forecast.cli.parser import build_parser
from forecast.config import GROUPS, RunConfig, SettingError, check_settings, defaults, keywords, specs


def test_the_forecasters_keywords_and_defaults_are_the_configurations():
    signature = inspect.signature(forecast.Forecaster)
    assert list(signature.parameters) == sorted(keywords(), key=list(signature.parameters).index)
    assert set(signature.parameters) == set(keywords())
    assert {name: p.default for name, p in signature.parameters.items()} == {n: defaults()[n] for n in keywords()}


@pytest.mark.parametrize("command", ["fit", "backtest"])
def test_every_setting_has_a_flag_in_fit_and_backtest(command):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    flags = {option for action in sub._actions for option in action.option_strings}
    groups = ("data", "model", "training", "runtime") + (("backtest",) if command == "backtest" else ())
    missing = [name for name, (_, spec, _) in specs(groups).items()
               if spec.flag and f"--{name.replace('_', '-')}" not in flags]
    assert missing == []
    # the command sets these itself: logs go under --out, progress follows the terminal
    assert [name for name, (_, spec, _) in specs(groups).items() if not spec.flag] == ["log_dir", "progress"]


@pytest.mark.parametrize("values, message", [
    ({"lookback": 0}, "lookback must be a positive whole number, not 0"),
    ({"loss": "pinball"}, "loss must be one of mse, mae, huber, not 'pinball'"),
    ({"val": 0.7, "test": 0.4}, "val and test must be shares of the rows whose sum is below 1"),
    ({"model": "linear", "quantiles": [0.1]}, "quantiles needs a model with an LSTM head"),
    ({"devices": 0}, "devices must be auto or a positive whole number"),
    ({"horizon": "12"}, "horizon must be a whole number, not '12'"),
    ({"cost_bps": -1}, "cost_bps must not be negative"),
    ({"window": "sliding"}, "window sliding needs train_length"),
    ({"nonsense": 1}, "unknown setting nonsense"),
    ({"strategy": "long-short"}, "strategy is Lightning's training strategy .*; the signs a backtest trades are positions"),
])
def test_one_validator_names_the_setting(values, message):
    with pytest.raises(SettingError, match=message):
        RunConfig.build(values)


def test_messages_name_the_setting_as_the_user_wrote_it():
    with pytest.raises(SettingError, match="^--lookback must be a positive whole number"):
        check_settings({"lookback": -1}, lambda name: "--" + name)
    with pytest.raises(ValueError, match="^lookback must be a positive whole number"):
        forecast.Forecaster(lookback=-1)  # the keyword, as written


def test_groups_split_what_a_model_keeps_from_what_a_run_uses():
    config = RunConfig.build({"lookback": 48, "accelerator": "cpu", "time_col": "Zeit", "cost_bps": 2})
    assert config.model.lookback == 48 and config.runtime.accelerator == "cpu"
    assert config.read_options() == {"time_col": "Zeit"}
    assert config.keywords()["lookback"] == 48 and "time_col" not in config.keywords()
    assert set(config.flat()) == set(specs()) and set(GROUPS) == {"data", "model", "training", "runtime", "backtest"}
