"""Shared command-line plumbing: user errors become one line on stderr and a non-zero exit; shared options."""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from helpers.config import Config, compose_config, parse_set
from helpers.config_rules import DEVICE_PATTERN
from helpers.errors import UserInputError, printable


def os_error_message(error: OSError) -> str:
    """'<file>: <reason>' of an OSError (a missing file, a read-only folder, a full disk)."""
    names = [name for name in (error.filename, error.filename2) if name is not None]
    reason = error.strerror or str(error) or type(error).__name__
    return f"{' -> '.join(str(name) for name in names)}: {reason}" if names else reason


def run_command(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run `main(argv)`; a UserInputError or an OSError (missing file, read-only folder, full disk) prints
    'error: ...' as one line (control characters escaped) and returns 2."""
    try:
        return int(main(argv) or 0)
    except UserInputError as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {printable(os_error_message(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def parse_list(text: str, what: str, cast=str, unique: bool = True) -> list:
    """'a,b,c' -> [a, b, c] (cast), refusing empty items, and repeats unless `unique` is False (weights)."""
    items = [item.strip() for item in text.split(",")]
    try:
        values = [cast(item) for item in items if item]
    except ValueError:
        raise UserInputError(f"--{what}: expected a comma-separated list, got {text!r}") from None
    if not values or len(values) != len(items):
        raise UserInputError(f"--{what}: expected a comma-separated list without empty items, got {text!r}")
    if unique and len(set(values)) != len(values):
        raise UserInputError(f"--{what}: {text!r} names an item twice")
    return values


def add_config_arguments(parser: argparse.ArgumentParser, recipe_help: str | None = None) -> None:
    """The settings arguments every command shares: a dataset file, a recipe, `--set` overrides, `--data`."""
    parser.add_argument("--config", metavar="DATASET",
                        help="dataset file: a name under configs/ (synthetic, jhmdb, ucf101_5cls, ...) or a YAML "
                             "path holding data and preprocess settings (default: the dataclass defaults, i.e. "
                             "the built-in synthetic dataset)")
    if recipe_help is not False:
        parser.add_argument("--recipe", help=recipe_help or "training recipe: a name under configs/recipes/ "
                                                            "(baseline, improved, stgcn, ddnet, ...) or a YAML path")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="override one setting, value read as YAML, e.g. train.epochs=10 (repeatable)")
    parser.add_argument("--data", metavar="PKL", help="dataset pickle (the same as --set data.path=PKL)")


def settings_from_args(args: argparse.Namespace) -> dict:
    """The `--set`, `--data` and `--device` overrides of `args` as {section: {field: value}}."""
    settings = parse_set(args.set)
    if args.data:
        settings.setdefault("data", {})["path"] = args.data
    if getattr(args, "device", None):
        settings.setdefault("train", {})["device"] = args.device
    return settings


def config_from_args(args: argparse.Namespace, recipe=None) -> Config:
    """The run settings of a command: dataset file, then recipe (`recipe` or args.recipe), then overrides."""
    recipe = recipe if recipe is not None else getattr(args, "recipe", None)
    return compose_config(args.config, recipe, settings_from_args(args))


def device_name(text: str) -> str:
    """argparse type of --device: auto, cpu, cuda or cuda:N (whether it exists is checked when it is used)."""
    if not DEVICE_PATTERN.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; use auto, cpu, cuda or cuda:N")
    return text


def add_device_argument(parser: argparse.ArgumentParser, default: str = "the config's train.device, auto") -> None:
    """The --device option of every command that runs a model (args.device: None when not given)."""
    parser.add_argument("--device", type=device_name, metavar="auto|cpu|cuda[:N]",
                        help=f"where the model runs: auto = CUDA when available, else CPU (default: {default}); "
                             "under torchrun, cuda is each process's own GPU")


def refuse_torchrun(command: str) -> None:
    """Stop a command that runs single-process when torchrun started it (it would run once per process)."""
    from helpers.training.distributed import launched_by_torchrun

    if launched_by_torchrun():
        raise UserInputError(f"{command} runs in one process; under torchrun only helpers.train runs "
                             "distributed (see docs/scaling.md)")
