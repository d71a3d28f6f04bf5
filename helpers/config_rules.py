"""How a config setting is checked: one small rule class per kind of value.

`helpers.config` declares a rule for every field next to its dataclass
(`TRAIN_RULES = {"epochs": Integer(low=1), ...}`); `check_fields` applies them.
A rule returns the value as it is used (a number given as text, e.g. `1e-3`,
which YAML 1.1 reads as a string, becomes the float) or raises `BadValue` with
what was expected; the caller adds the file and the field.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
import re

from helpers.errors import UserInputError, quote


class BadValue(Exception):
    """A setting's value breaks its rule; the message says what was expected and what was given."""


def _given(value) -> str:
    hint = " (a string: write numbers and true/false without quotes)" if isinstance(value, str) else ""
    return f"got {quote(value)}{hint}"


def _number(value) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def _bounds(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{_number(low)}, {_number(high)}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {_number(low)}"
    if high is not None:
        return f" {'<' if high_open else '<='} {_number(high)}"
    return ""


def _inside(value, low, high, low_open, high_open) -> bool:
    return not ((low is not None and (value < low or (low_open and value == low)))
                or (high is not None and (value > high or (high_open and value == high))))


@dataclasses.dataclass(frozen=True)
class Integer:
    low: int | None = None
    high: int | None = None

    def check(self, value):
        if type(value) is not int or not _inside(value, self.low, self.high, False, False):
            raise BadValue(f"expected an integer{_bounds(self.low, self.high, False, False)}, {_given(value)}")
        return value


@dataclasses.dataclass(frozen=True)
class Number:
    """A finite float (an int or a numeric string such as '1e-3' is taken as the float it writes)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def check(self, value):
        number = None
        if type(value) in (int, float):
            number = float(value)
        elif type(value) is str and re.fullmatch(r"\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*", value):
            number = float(value)
        if number is None or not math.isfinite(number) \
                or not _inside(number, self.low, self.high, self.low_open, self.high_open):
            raise BadValue(f"expected a number{_bounds(self.low, self.high, self.low_open, self.high_open)}, "
                           f"{_given(value) if number is None or not math.isfinite(number) else f'got {number:g}'}")
        return number


@dataclasses.dataclass(frozen=True)
class Flag:
    def check(self, value):
        if type(value) is not bool:
            raise BadValue(f"expected true or false, {_given(value)}")
        return value


class Choice:
    def __init__(self, *options: str):
        self.options = options

    def check(self, value):
        if type(value) is not str or value not in self.options:
            raise BadValue(f"expected one of {', '.join(self.options)}, got {quote(value)}")
        return value


@dataclasses.dataclass(frozen=True)
class Text:
    optional: bool = False  # None allowed

    def check(self, value):
        if value is None and self.optional:
            return value
        if type(value) is not str or not value or "\0" in value:
            raise BadValue(f"expected a non-empty string{' or null' if self.optional else ''}, {_given(value)}")
        return value


MAX_LIST = 10_000  # items of a list setting (class subsets are the longest: up to every class of a dataset)


class ClassList:
    """null (every class) or a non-empty list of class ids (integers >= 0) and names (strings)."""

    def check(self, value):
        if value is None:
            return value
        if type(value) is not list or not value or len(value) > MAX_LIST or not all(
                (type(item) is int and item >= 0) or (type(item) is str and item) for item in value):
            raise BadValue("expected null (every class) or a non-empty list of class ids (integers >= 0) and "
                           f"names, {_given(value)}")
        return value


class StreamList:
    """A non-empty list of distinct stream names of helpers.transforms.streams.STREAMS."""

    def check(self, value):
        from helpers.transforms.streams import STREAMS

        if type(value) is not list or not value or not all(type(item) is str for item in value) \
                or len(set(value)) != len(value) or not set(value) <= set(STREAMS):
            raise BadValue(f"expected a non-empty list of distinct streams from {', '.join(STREAMS)}, "
                           f"{_given(value)}")
        return value


class ModelName:
    def check(self, value):
        from helpers.models.registry import MODELS

        return Choice(*MODELS).check(value)


MAX_EXTRA_VALUES = 1_000  # values inside model.extra (nested lists count each item)


def _plain_size(value, depth: int = 0) -> int:
    """How many values a setting holds (scalars 1, lists their items); BadValue for anything else."""
    if value is None or type(value) in (bool, int, float, str):
        return 1
    if type(value) in (list, tuple) and depth < 3:
        size = 1
        for item in value:
            size += _plain_size(item, depth + 1)
            if size > MAX_EXTRA_VALUES:
                break
        return size
    raise BadValue(f"values must be numbers, strings, true/false or lists of them (3 levels at most), "
                   f"{_given(value)}")


class ModelExtra:
    """A mapping of further keyword arguments of the model class: names checked against the model by
    `check_model_extra`, values plain (numbers, strings, flags, short lists)."""

    def check(self, value):
        if type(value) is not dict or not all(type(key) is str for key in value):
            raise BadValue(f"expected a mapping of keyword arguments of the model class, {_given(value)}")
        if sum(_plain_size(item) for item in value.values()) > MAX_EXTRA_VALUES:
            raise BadValue(f"holds more than {MAX_EXTRA_VALUES} values")
        return value


_FIXED_ARGUMENTS = ("self", "num_classes", "layout", "in_channels")  # given by the training code, not settings


_KINDS = {"bool": (bool,), "int": (int,), "float": (int, float), "str": (str,), "None": (type(None),),
          "list": (list, tuple), "tuple": (list, tuple)}


def _kinds(parameter: inspect.Parameter) -> tuple | None:
    """The value types a model parameter takes: from its annotation ('str | float | int', 'tuple[...]'),
    else from its default's type; None when neither says."""
    annotation = parameter.annotation
    if isinstance(annotation, str) and annotation:
        names = [part.strip().split("[")[0] for part in annotation.split("|")]
        if all(name in _KINDS for name in names):
            return tuple(kind for name in names for kind in _KINDS[name])
        return None
    default = parameter.default
    if default is inspect.Parameter.empty or default is None:
        return None
    return _KINDS.get(type(default).__name__)


def _of_kind(value, kinds: tuple) -> bool:
    if type(value) is bool:
        return bool in kinds  # a bool is an int to Python, not to a layer count
    if type(value) is float and not math.isfinite(value):
        return False
    return isinstance(value, kinds)


def check_model_extra(name: str, extra: dict) -> None:
    """Refuse keyword arguments the model class `name` does not take, and values not of the kind
    of the parameter's default (`num_layers: true`, `filters: 1.5`)."""
    from helpers.models.registry import MODELS  # the model table imports torch: only when a model is named

    parameters = inspect.signature(MODELS[name].__init__).parameters
    known = [p for p in parameters if p not in _FIXED_ARGUMENTS]
    unknown = [key for key in extra if key not in known]
    if unknown:
        raise BadValue(f"{name} takes no setting {quote(unknown[0])} (its settings: {', '.join(known)})")
    for key, value in extra.items():
        kinds = _kinds(parameters[key])
        if kinds is not None and not _of_kind(value, kinds):
            raise BadValue(f"{name}'s setting {key!r} takes {' or '.join(sorted({k.__name__ for k in kinds}))}, "
                           f"got {quote(value)}")


DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")


class Device:
    """auto, cpu, cuda or cuda:N; whether it exists here is check_config's question (helpers.training.device)."""

    def check(self, value):
        if type(value) is not str or not DEVICE_PATTERN.fullmatch(value):
            raise BadValue(f"expected auto, cpu, cuda or cuda:N, got {quote(value)}")
        return value


def check_fields(obj, rules: dict, where: str, prefix: str) -> None:
    """Apply `rules` (field -> rule) to the dataclass `obj` in place; UserInputError names `where` and the field."""
    for f in dataclasses.fields(obj):
        if dataclasses.is_dataclass(getattr(obj, f.name)):
            continue  # a section: checked with its own rules
        rule = rules.get(f.name)
        if rule is None:
            raise RuntimeError(f"config field {prefix}{f.name} has no rule in helpers.config")
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if type(getattr(obj, f.name)) is type(default) and getattr(obj, f.name) == default:
            continue  # the default obeys its rule (tested); skipping it keeps torch out of e.g. predict --onnx
        try:
            value = rule.check(getattr(obj, f.name))
        except BadValue as error:
            raise UserInputError(f"{where}: {prefix}{f.name}: {error}") from None
        setattr(obj, f.name, value)
