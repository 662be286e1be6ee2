"""Hydra configuration: compose `flows/conf` with key=value overrides and check them
before anything starts, so a typo fails in a second with a message naming the key."""
from __future__ import annotations

import os
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, ListConfig, OmegaConf

CONF_DIR = Path(__file__).parent / "conf"
GROUPS = sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir())
INPUT_LISTS = ("inputs.text", "inputs.books", "inputs.warc", "inputs.instructions", "inputs.news.seeds")


class ConfigError(ValueError):
    """A bad override or input; its message is one line naming the key."""


def group_options(group: str) -> list[str]:
    """Options of a group; `common.yaml` holds what the options share and is not one."""
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if p.stem != "common")


def _compose(overrides: list[str]) -> DictConfig:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def _check_keys(overrides: list[str], defaults: DictConfig) -> None:
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        if not sep:
            raise ConfigError(f"override {override!r} is not key=value")
        if key in GROUPS:
            if value not in group_options(key):
                raise ConfigError(f"{key}={value}: unknown option; choose one of {', '.join(group_options(key))}")
            continue
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(defaults, parent) if parent else defaults
        if not isinstance(node, DictConfig) or leaf not in node.keys():
            raise ConfigError(f"unknown config key {key!r} (see `qazflow build --help`)")


def _check_types(cfg, defaults, prefix: str = "") -> None:
    """A value must keep the type of its default (an int may stand for a float)."""
    for key in defaults:
        name = f"{prefix}{key}"
        default = OmegaConf.select(defaults, str(key), throw_on_missing=False)
        value = OmegaConf.select(cfg, str(key), throw_on_missing=False)
        if isinstance(default, DictConfig):
            if not isinstance(value, DictConfig):
                raise ConfigError(f"{name}: expected a mapping, got {value!r}")
            if len(default):
                _check_types(value, default, f"{name}.")
        elif default is None or value is None or name in INPUT_LISTS:
            continue
        elif isinstance(default, ListConfig):
            if not isinstance(value, ListConfig):
                raise ConfigError(f"{name}: expected a list like [a,b], got {value!r}")
        elif isinstance(default, bool) or isinstance(value, bool):
            if type(value) is not type(default):
                raise ConfigError(f"{name}: expected {type(default).__name__}, got {value!r}")
        elif isinstance(default, float) and isinstance(value, int):
            continue
        elif type(value) is not type(default):
            raise ConfigError(f"{name}: expected {type(default).__name__}, got {value!r}")


def load_config(overrides: list[str], require_output: bool = True) -> DictConfig:
    """Compose, validate and return the build configuration (before Ray starts)."""
    group_choice = [o for o in overrides if o.partition("=")[0] in GROUPS]
    _check_keys(group_choice, None)
    defaults = _compose(group_choice)
    _check_keys(overrides, defaults)
    try:
        cfg = _compose(overrides)
    except Exception as exc:  # Hydra's grammar errors: keep the first line
        raise ConfigError(" ".join(str(exc).split("\n")[:2]).strip()) from None
    _check_types(cfg, defaults)
    for key in INPUT_LISTS:  # a single path is as good as a list of one
        value = OmegaConf.select(cfg, key)
        if value is None:
            OmegaConf.update(cfg, key, [])
        elif not isinstance(value, ListConfig):
            OmegaConf.update(cfg, key, [value])
    if require_output and OmegaConf.is_missing(cfg, "output"):
        raise ConfigError("output: required, e.g. output=./corpus or output=s3://bucket/run")
    if cfg.inputs.on_missing not in ("fail", "reject"):
        raise ConfigError(f"inputs.on_missing: expected fail or reject, got {cfg.inputs.on_missing!r}")
    return cfg


def check_inputs(cfg: DictConfig, storage) -> list[str]:
    """Missing input paths: raised at start under on_missing=fail, else returned."""
    missing = []
    for key in ("inputs.text", "inputs.books", "inputs.warc", "inputs.instructions"):
        for uri in OmegaConf.select(cfg, key):
            if not storage.exists(str(uri)):
                if cfg.inputs.on_missing == "fail":
                    raise ConfigError(f"{key}: input path does not exist: {uri}")
                missing.append(str(uri))
    if cfg.inputs.catalog and not storage.exists(cfg.inputs.catalog):
        raise ConfigError(f"inputs.catalog: file does not exist: {cfg.inputs.catalog}")
    return missing


def describe() -> str:
    """The `--help` listing: groups with their options, then every key with its comment."""
    lines = ["Configuration groups (choose with group=option):"]
    for group in GROUPS:
        lines.append(f"  {group:<10} {' | '.join(group_options(group))}")
    lines.append("")
    lines.append("Keys (override with key=value; defaults and meaning):")
    shared = [CONF_DIR / g / "common.yaml" for g in GROUPS if (CONF_DIR / g / "common.yaml").exists()]
    for path in [CONF_DIR / "config.yaml", *shared] + [CONF_DIR / g / f"{group_options(g)[0]}.yaml" for g in GROUPS]:
        rel = os.path.relpath(path, CONF_DIR)
        lines.append(f"  # {rel}")
        for raw in path.read_text().splitlines():
            if raw.strip() and not raw.lstrip().startswith(("defaults", "- ")) and not raw.startswith("#"):
                lines.append(f"    {raw}")
    return "\n".join(lines)
