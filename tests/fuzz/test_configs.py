"""Fuzz: broken configs and recipes through the train command; whatever it accepts obeys every rule."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from helpers import train
from helpers.config import SECTION_RULES, Config, check_config
from tests.fuzz.harness import budget, run_entry
from tests.fuzz.strategies import ODD_TEXT

FIELDS = [(section, name) for section, rules in SECTION_RULES.items() for name in rules]

yaml_values = st.recursive(
    st.one_of(st.integers(-(2**65), 2**65), st.floats(), st.text(max_size=10), st.sampled_from(ODD_TEXT), st.none(),
              st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6)

# raw YAML a careless or hostile user may type, laid into the file as text
RAW = ["1e-3", "1.5", "-3", "0", ".inf", ".nan", "'ten'", "\"no\"", "no", "yes", "~", "[1, 2]", "{a: 1}", "!!binary aGk=",
       "!!python/object/apply:os.system [true]", "&a [*a]", "*undefined", "2001-12-14", "0x1f", "1_000", "[[[[[[[[]]]]]]]]",
       "[" * 3000 + "]" * 3000, "\t", "'\\x1b[2J'"]


@st.composite
def config_texts(draw) -> bytes:
    """A YAML config with one to three settings replaced by odd values (or odd YAML), as bytes."""
    values = {"train": {"epochs": 1}}
    raw_lines = []
    for _ in range(draw(st.integers(1, 3))):
        section, name = draw(st.sampled_from(FIELDS + [("train", "epoch"), ("bogus", "x")]))
        if draw(st.booleans()):
            values.setdefault(section, {})[name] = draw(yaml_values)
        else:
            raw_lines.append(f"{section}:\n  {name}: {draw(st.sampled_from(RAW))}\n")
    text = yaml.safe_dump(values) if not raw_lines else "".join(raw_lines)
    data = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        data += draw(st.sampled_from([b"\xff\xfe", b"\xe9", b"\x00", b"\xc3"]))  # not UTF-8, or a NUL
    return data


@pytest.fixture
def no_training(monkeypatch):
    """Replace the training itself: the fuzz asks whether settings are accepted, not how a model trains."""
    accepted = []
    monkeypatch.setattr(train, "train", lambda config, *args, **kwargs: accepted.append(config))
    return accepted


@budget(60)
@given(text=config_texts(), as_recipe=st.booleans())
def test_broken_configs_are_refused_in_one_line_and_accepted_ones_obey_every_rule(text, as_recipe, no_training):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = folder / "config.yaml"
        path.write_bytes(text)
        run = folder / "run"
        argv = ["--recipe", path] if as_recipe else ["--config", path]
        before = len(no_training)
        code, _ = run_entry(train.main, [*argv, "--out", run], watch=[folder])
        assert (code == 0) == (len(no_training) == before + 1)
        if code == 0:
            config = no_training[-1]
            assert isinstance(config, Config)
            check_config(config, "accepted")  # what passed once passes again, unchanged
            for section in SECTION_RULES:
                for name, value in vars(getattr(config, section)).items():
                    assert not isinstance(value, str) or name in ("path", "name", "sampling", "person", "center",
                                                                  "val_groups", "optimizer", "schedule", "device",
                                                                  "test_checkpoint"), (section, name, value)
