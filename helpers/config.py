"""Run configuration: one dataclass tree, filled from YAML, saved with every checkpoint and result."""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from helpers.config_rules import (BadValue, ClassList, Choice, Device, Flag, Integer, ModelExtra, ModelName, Number,
                                  StreamList, Text, check_fields, check_model_extra)
from helpers.errors import UserInputError, quote
from helpers.io import atomic_write_text
from helpers.paths import CONFIGS_DIR, PROJECT_ROOT, RECIPES_DIR


@dataclass
class DataConfig:
    path: str | None = None          # dataset pickle; None = the built-in synthetic dataset
    classes: list | None = None      # class ids or names to keep (relabelled 0..K-1); None = all
    split: int = 1                   # uses the file's train<split> / test<split>
    val_fraction: float = 0.2        # share of train<split> carved out for validation (by group)
    seed: int = 0                    # seed of the validation carve-out
    train_fraction: float = 1.0      # share of the remaining training clips used (< 1 for learning curves)
    val_groups: str = "name"         # carve-out groups: 'name' (gXX in ids, else stratified) or 'body_shape' (twins)
    cache: bool = True               # read the pickle through its memory-mapped cache (helpers.data.cache)
    folds: int = 0                   # K > 0: K-fold inside train<split>; fold `fold` is the test clips, test<split> unread
    fold: int = 0                    # the held-out fold with folds > 0 (0..folds-1)


DATA_RULES = {
    "path": Text(optional=True),
    "classes": ClassList(),
    "split": Integer(low=1, high=99),
    "val_fraction": Number(low=0.0, high=1.0, high_open=True),
    "seed": Integer(low=0, high=2**32 - 1),
    "train_fraction": Number(low=0.0, high=1.0, low_open=True),
    "val_groups": Choice("name", "body_shape"),
    "cache": Flag(),
    "folds": Integer(low=0, high=1000),
    "fold": Integer(low=0, high=999),   # below folds when folds > 0 (check_config)
}


@dataclass
class PreprocessConfig:
    length: int = 64               # frames per clip after fix_length
    sampling: str = "loop"         # 'loop': crop if longer, loop if shorter (the report); 'uniform': evenly spaced
    person: str = "max_score"      # 'max_score': highest total score first; 'first': slot order (the report)
    max_persons: int = 1           # persons kept, M (graph models may use 2)
    min_score: float = 0.2         # joints scored below this are treated as missing
    center: str = "clip"           # 'clip': one centre for the whole clip (keeps body motion); 'frame': per frame


PREPROCESS_RULES = {
    "length": Integer(low=1, high=10_000),
    "sampling": Choice("loop", "uniform"),
    "person": Choice("max_score", "first"),
    "max_persons": Integer(low=1, high=16),
    "min_score": Number(),
    "center": Choice("clip", "frame"),
}


@dataclass
class AugmentConfig:
    enabled: bool = False            # augment training clips (evaluation never is)
    rotate_degrees: float = 0.0      # random in-plane rotation, +- degrees
    scale: float = 0.0               # random scale factor in 1 +- scale
    flip_probability: float = 0.0    # horizontal flip swapping left/right joints
    random_sampling: bool = False    # random crop offset / random frame per segment
    test_clips: int = 1              # clips averaged at test time ('uniform' offsets)
    test_flip: bool = False          # also average each test clip's mirror image (left/right joints swapped)


AUGMENT_RULES = {
    "enabled": Flag(),
    "rotate_degrees": Number(low=0.0, high=180.0),
    "scale": Number(low=0.0, high=1.0, high_open=True),
    "flip_probability": Number(low=0.0, high=1.0),
    "random_sampling": Flag(),
    "test_clips": Integer(low=1, high=100),
    "test_flip": Flag(),
}


@dataclass
class ModelConfig:
    name: str = "baseline"           # a key of helpers.models.registry.MODELS
    hidden_size: int = 128           # LSTM hidden units
    num_layers: int = 2              # LSTM layers
    dropout: float = 0.4             # ImprovedLSTM / graph models: dropout before the head
    streams: list = field(default_factory=lambda: ["joint"])  # input streams stacked on channels (helpers.transforms.streams)
    extra: dict = field(default_factory=dict)  # further keyword arguments of the model class


MODEL_RULES = {
    "name": ModelName(),
    "hidden_size": Integer(low=1, high=16_384),
    "num_layers": Integer(low=1, high=64),
    "dropout": Number(low=0.0, high=1.0, high_open=True),
    "streams": StreamList(),
    "extra": ModelExtra(),
}


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 32             # per process: under torchrun the global batch is N times this
    optimizer: str = "adam"          # 'adam', 'adamw' or 'sgd' (momentum 0.9, nesterov)
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"       # 'constant' or 'cosine' (with linear warm-up)
    warmup_epochs: int = 0
    label_smoothing: float = 0.0
    grad_clip: float = 5.0           # max gradient norm, 0 = off
    seed: int = 0                    # weight init, shuffling, augmentation
    seed_offset: int = 0             # added to seed: the same recipe again as another member of a seed ensemble
    device: str = "auto"             # 'auto' = CUDA when available, else CPU; 'cpu', 'cuda', 'cuda:N'
    amp: bool = True                 # mixed precision on CUDA (bf16 where supported, else fp16 + grad scaler)
    cpu_bf16: bool = False           # CPU training under bfloat16 autocast (fast on CPUs with AVX512-BF16 or AMX)
    num_workers: int = -1            # DataLoader worker processes; -1 = by device (CUDA: up to 4, CPU: 0)
    num_threads: int = 0             # torch CPU threads, 0 = torch's default
    test_checkpoint: str = "best"    # what the benchmark tests: 'best' (best val macro-F1) or 'last' epoch

    def run_seed(self) -> int:
        """The seed a run draws from: `seed` (set per run by the benchmark) plus the recipe's `seed_offset`."""
        return (self.seed + self.seed_offset) % 2**32


TRAIN_RULES = {
    "epochs": Integer(low=1, high=1_000_000),
    "batch_size": Integer(low=1, high=65_536),
    "optimizer": Choice("adam", "adamw", "sgd"),
    "lr": Number(low=0.0, low_open=True),
    "weight_decay": Number(low=0.0),
    "schedule": Choice("constant", "cosine"),
    "warmup_epochs": Integer(low=0, high=1_000_000),
    "label_smoothing": Number(low=0.0, high=1.0, high_open=True),
    "grad_clip": Number(low=0.0),
    "seed": Integer(low=0, high=2**32 - 1),
    "seed_offset": Integer(low=0, high=2**32 - 1),
    "device": Device(),
    "amp": Flag(),
    "cpu_bf16": Flag(),
    "num_workers": Integer(low=-1, high=256),
    "num_threads": Integer(low=0, high=1024),
    "test_checkpoint": Choice("best", "last"),
}


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return asdict(self)


CONFIG_RULES: dict = {}  # Config's own fields beside its sections (none today)
SECTION_RULES = {"data": DATA_RULES, "preprocess": PREPROCESS_RULES, "augment": AUGMENT_RULES,
                 "model": MODEL_RULES, "train": TRAIN_RULES}


def _fill(cls, values: dict, where: str):
    if not isinstance(values, dict):
        raise UserInputError(f"{where}: expected a mapping, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise UserInputError(f"{where}: unknown field {quote(key)} (known: {', '.join(fields)})")
        sub = fields[key].type
        nested = {"DataConfig": DataConfig, "PreprocessConfig": PreprocessConfig, "AugmentConfig": AugmentConfig,
                  "ModelConfig": ModelConfig, "TrainConfig": TrainConfig}.get(str(sub))
        kwargs[key] = _fill(nested, value, f"{where}.{key}") if nested else value
    return cls(**kwargs)


def config_from_dict(values: dict, where: str = "config", here: bool = True) -> Config:
    """A checked Config from nested `{section: {field: value}}` (`check_config`; `here` as there)."""
    return check_config(_fill(Config, values or {}, where), where, here)


def apply_overrides(config: Config, values: dict, where: str) -> Config:
    """Overwrite fields of `config` in place from nested `{section: {field: value}}` (a recipe), then check it."""
    if not isinstance(values, dict):
        raise UserInputError(f"{where}: expected a mapping of config sections, got {type(values).__name__}")
    for section, fields in values.items():
        target = getattr(config, section, None) if isinstance(section, str) else None
        if not dataclasses.is_dataclass(target) or not isinstance(fields, dict):
            raise UserInputError(f"{where}: unknown config section {quote(section)}")
        known = {f.name for f in dataclasses.fields(target)}
        for name, value in fields.items():
            if name not in known:
                raise UserInputError(f"{where}: unknown field {quote(f'{section}.{name}')} "
                                     f"(known: {', '.join(sorted(known))})")
            setattr(target, name, value)
    return check_config(config, where)


MAX_CONFIG_BYTES = 1 << 20  # a config is a few hundred bytes
MAX_CONFIG_NESTING = 32     # brackets inside brackets ([[...]]): PyYAML takes quadratic time on deep nesting


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", text):
        depth = depth + 1 if bracket in "[{" else max(0, depth - 1)
        deepest = max(deepest, depth)
    return deepest


def parse_set(entries: list[str]) -> dict:
    """`--set` entries 'section.field=value' (value read as YAML) -> {section: {field: value}}."""
    settings: dict = {}
    for entry in entries:
        key, sep, text = entry.partition("=")
        section, dot, name = key.partition(".")
        if not sep or not dot or not section or not name:
            raise UserInputError(f"--set {entry!r}: expected section.field=value, e.g. train.epochs=40")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise UserInputError(f"--set {entry!r}: the value is not valid YAML") from None
        settings.setdefault(section, {})[name] = value
    return settings


def recipe_path(recipe: str | os.PathLike) -> Path:
    """A recipe given by name (`stgcn` -> configs/recipes/stgcn.yaml) or by path."""
    path = Path(recipe)
    if path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path if path.is_absolute() or path.is_file() else PROJECT_ROOT / path
    return RECIPES_DIR / f"{recipe}.yaml"


def read_recipe(recipe: str | os.PathLike, _seen: tuple = ()) -> list[tuple[dict, str]]:
    """The layers of a recipe, base first: [(sections, where), ...].

    A recipe may start from another one with `base: NAME_OR_PATH` (a path relative
    to the recipe's folder), so that two recipes differing in one field say only that.
    """
    path = recipe_path(recipe)
    if path.resolve() in _seen:
        raise UserInputError(f"{path}: 'base' recipes form a loop")
    values = read_yaml(path)
    base = values.pop("base", None)
    layers = []
    if base is not None:
        if not isinstance(base, str):
            raise UserInputError(f"{path}: base: expected a recipe name or path, got {type(base).__name__}")
        base_path = base if base.endswith((".yaml", ".yml")) else f"{base}.yaml"
        layers = read_recipe(path.parent / base_path, _seen + (path.resolve(),))
    return layers + [(values, str(path))]


def compose_config(dataset: str | os.PathLike | None = None, recipe: str | os.PathLike | None = None,
                   overrides: list[str] | dict = ()) -> Config:
    """The one way to build a run's settings: dataclass defaults, then the dataset file
    (configs/<dataset>.yaml: its data and preprocess blocks), then the recipe (what a model's
    training changes), then `--set section.field=value` overrides, each layer over the last."""
    config = Config()
    if dataset is not None:
        path = dataset_config_path(dataset)
        apply_overrides(config, read_yaml(path), str(path))
    if recipe is not None:
        for values, where in read_recipe(recipe):
            apply_overrides(config, values, where)
    settings = overrides if isinstance(overrides, dict) else parse_set(list(overrides))
    return apply_overrides(config, settings, "--set")


def dataset_config_path(dataset: str | os.PathLike) -> Path:
    """A dataset file given by name (`jhmdb` -> configs/jhmdb.yaml) or by path."""
    path = Path(dataset)
    if path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path if path.is_absolute() or path.is_file() else PROJECT_ROOT / path
    return CONFIGS_DIR / f"{dataset}.yaml"


def read_yaml(path: str | os.PathLike) -> dict:
    """A YAML mapping from `path`, with one-line errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: config file not found")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise UserInputError(f"{path}: {path.stat().st_size:,} bytes is too large for a config "
                             f"(at most {MAX_CONFIG_BYTES >> 20} MiB)")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserInputError(f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at position "
                             f"{error.start}); save the config as UTF-8") from None
    if _bracket_depth(text) > MAX_CONFIG_NESTING:
        raise UserInputError(f"{path}: not valid YAML (nested too deeply: more than {MAX_CONFIG_NESTING} levels)")
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UserInputError(f"{path}: not valid YAML ({' '.join(str(error).split())[:300]})") from None
    except RecursionError:
        raise UserInputError(f"{path}: not valid YAML (nested too deeply)") from None
    return values or {}


def load_config(path: str | os.PathLike | None) -> Config:
    """A whole checked Config saved in one YAML file (a run folder's config.yaml); None gives the defaults.
    Commands compose theirs with `compose_config`."""
    if path is None:
        return Config()
    return config_from_dict(read_yaml(path), str(path))


def save_config(config: Config, path: str | os.PathLike) -> None:
    atomic_write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))


# ----------------------------------------------------------------------------
# Checking: every field's rule (declared next to its dataclass above), before anything runs
# ----------------------------------------------------------------------------

def check_config(config: Config, where: str, here: bool = True) -> Config:
    """Check every setting's type and range in place, and return `config`; UserInputError names `where`
    and the field.  Numbers given as text (`lr: 1e-3`, which YAML 1.1 reads as a string) become numbers.

    `here`: the config is to run on this machine, so `train.device` must exist here
    (False for the config stored in a checkpoint, which may come from another machine).
    """
    check_fields(config, CONFIG_RULES, where, "")
    for section, rules in SECTION_RULES.items():
        check_fields(getattr(config, section), rules, where, f"{section}.")
    try:
        if config.model.extra:
            check_model_extra(config.model.name, config.model.extra)
    except BadValue as error:
        raise UserInputError(f"{where}: model.extra: {error}") from None
    if config.data.folds and not config.data.fold < config.data.folds:
        raise UserInputError(f"{where}: data.fold: {config.data.fold} is not one of the {config.data.folds} "
                             f"folds (0..{config.data.folds - 1})")
    if config.data.folds == 1:
        raise UserInputError(f"{where}: data.folds: K-fold needs at least 2 folds, got 1")
    if here and config.train.device not in ("auto", "cpu"):
        from helpers.training.device import pick_device  # imports torch: only for a device that may be missing

        pick_device(config.train.device, where=f"{where}: train.device")
    return config
