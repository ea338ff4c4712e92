"""A run's settings on the command line: flags generated from forecast.config (grouped as there),
then a YAML file's keys (the same names), then the flags given; checked once, before any data is read."""

from __future__ import annotations

import argparse
from pathlib import Path

from forecast.config import READ_OPTIONS, RunConfig, check_settings, from_text, specs
from forecast.atomic import existing_parent, writable
from forecast.errors import DataError

FIT_SETTINGS = list(specs(("data", "model", "training", "runtime")))
BACKTEST_SETTINGS = list(specs(("data", "model", "training", "runtime", "backtest")))


def add_settings(parser: argparse.ArgumentParser, names: list[str], defaults: dict | None = None) -> None:
    """A flag for each setting of ``names``, in an argument group per configuration group, its
    help line and default (``defaults``: the command's own, where they differ) from the config."""
    sections: dict[str, argparse._ArgumentGroup] = {}
    for name, (group, spec, default) in specs().items():
        if name not in names or not spec.flag:
            continue
        if group not in sections:
            sections[group] = parser.add_argument_group(f"{group} settings")
        shown = (defaults or {}).get(name, default)
        text = spec.help if "(default" in spec.help and name not in (defaults or {}) else \
            f"{spec.help.split(' (default')[0]} (default: {_shown(shown)})"
        flag = _flag(name)
        if spec.kind == "switch":
            sections[group].add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            choices = spec.choices + (("none",) if spec.optional and spec.choices else ())
            sections[group].add_argument(flag, default=None, help=text,
                                         metavar="{" + ",".join(choices) + "}" if choices else None)


def run_config(args: argparse.Namespace, names: list[str], defaults: dict | None = None) -> RunConfig:
    """The command's defaults, then the YAML file of ``--config``, then the flags given: every
    setting of the run, checked; each error names the flag or the file's key."""
    values = dict(defaults or {})
    loaded = _read_config(args.config) if getattr(args, "config", None) else {}
    given = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    values |= loaded | given

    def where(name: str) -> str:
        return f"{args.config}: '{name}'" if name in loaded and name not in given else _flag(name)

    return RunConfig.build(values, where, lambda name, value: from_text(name, value) if name in given else value)


def read_options(args: argparse.Namespace) -> dict:
    """The read flags given (unset ones are left out, so that a saved model's own options apply)."""
    given = {name: getattr(args, name, None) for name in READ_OPTIONS}
    checked = check_settings({k: v for k, v in given.items() if v is not None}, _flag)
    return {name: value for name, value in checked.items() if value not in (None, False)}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _shown(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _read_config(path: str) -> dict:
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text()) or {}
    except OSError:
        raise DataError(f"{path}: no such config file") from None
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(loaded, dict):
        raise DataError(f"{path}: a config file holds 'setting: value' lines")
    loaded = {str(key).replace("-", "_"): value for key, value in loaded.items()}
    unknown = sorted(set(loaded) - set(specs()))
    if unknown:
        raise DataError(f"{path}: unknown setting '{unknown[0]}'; known: {', '.join(specs())}")
    return loaded


def threads(args: argparse.Namespace) -> int | None:
    """--threads, checked."""
    return check_settings({"threads": args.threads}, _flag, from_text)["threads"]


def check_output_file(path: str, flag: str, overwrite: bool = True) -> None:
    """An output file's place, checked before any work: not a folder, in a folder that exists
    or can be made and is writable, and (unless ``overwrite``) not there yet."""
    target = Path(path)
    if target.is_dir():
        raise DataError(f"{flag} {path} is a folder; name a file")
    if target.exists() and not overwrite:
        raise DataError(f"{flag} {path} exists already; add --force to overwrite it")
    parent = existing_parent(target)
    if not parent.is_dir() or not writable(parent):
        raise DataError(f"{flag} {path}: cannot write in {parent}")
