"""go-battleclank's config schema: defaults, how its yaml.v2 decode reads a YAML, and the full-key export."""

from __future__ import annotations

import pytest
import yaml

from optuna_clank.arena.snakes.gbc.schema import (
    GBC_DEFAULTS,
    GBC_KEYS,
    GREEDY_DEAD_KEYS,
    GREEDY_INERT_KEYS,
    GREEDY_READ_KEYS,
    default_gbc_config,
    dump_gbc_yaml,
    gbc_yaml_mapping,
    load_gbc_yaml,
    read_gbc_config,
)


def test_no_yaml_means_the_built_in_defaults() -> None:
    config = read_gbc_config(None)
    assert dict(config) == dict(GBC_DEFAULTS)
    assert config.used_defaults
    assert config["weights.space"] == 5.0 and config["search.max_depth"] == 121 and config["search.use_astar"] is True


def test_every_struct_field_is_a_key_with_a_go_type() -> None:
    assert len(GBC_KEYS) == len({k.name for k in GBC_KEYS}) == 82
    for spec in GBC_KEYS:
        assert spec.kind in (float, int, bool, str)
        assert type(spec.default) is spec.kind, spec.name
    assert GREEDY_READ_KEYS.isdisjoint(GREEDY_DEAD_KEYS)
    assert len(GREEDY_READ_KEYS) + len(GREEDY_DEAD_KEYS) == len(GBC_KEYS)
    assert GREEDY_INERT_KEYS <= GREEDY_READ_KEYS


def test_a_key_the_yaml_leaves_out_reads_as_zero_not_as_its_default() -> None:
    config = read_gbc_config({"weights": {"space": 3}})
    assert config["weights.space"] == 3.0 and type(config["weights.space"]) is float
    assert config["weights.cutoff"] == 0.0
    assert config["search.use_astar"] is False
    assert config["search.max_depth"] == 0
    assert config["search.algorithm"] == ""
    assert not config.used_defaults and not config.type_errors


def test_an_empty_yaml_is_all_zeros() -> None:
    config = read_gbc_config({})
    assert all(config[k.name] == k.zero for k in GBC_KEYS)
    assert not config.used_defaults


@pytest.mark.parametrize(("given", "read"), [(2.7, 2), (-2.7, -2), (200.0, 200), (7, 7), (None, 0)])
def test_an_int_field_truncates_a_float_toward_zero(given: float | None, read: int) -> None:
    value = read_gbc_config({"search": {"max_depth": given}})["search.max_depth"]
    assert value == read and type(value) is int


@pytest.mark.parametrize(
    "source",
    [
        {"weights": {"space": "lots"}},
        {"search": {"use_astar": 1}},
        {"search": {"max_depth": True}},
        {"search": {"max_depth": float("inf")}},
        {"weights": [1, 2]},
    ],
)
def test_a_value_yaml_v2_refuses_makes_the_bot_use_every_default(source: dict) -> None:
    config = read_gbc_config(source)
    assert config.type_errors
    assert config.used_defaults
    assert dict(config) == dict(GBC_DEFAULTS)


def test_unknown_keys_are_ignored_and_reported() -> None:
    config = read_gbc_config({"weights": {"spcae": 1.0, "space": 2.0}, "extras": {"a": 1}})
    assert config.unknown_keys == ("weights.spcae", "extras")
    assert config["weights.space"] == 2.0
    assert not config.type_errors


def test_the_export_names_every_key_and_reads_back_identically() -> None:
    config = read_gbc_config({"weights": {"space": 7.5}, "food_weights": {"healthy_ceiling": 64}})
    nested = gbc_yaml_mapping(config)
    assert sum(len(section) for section in nested.values()) == len(GBC_KEYS)
    reread = read_gbc_config(yaml.safe_load(yaml.safe_dump(nested)))
    assert dict(reread) == dict(config)
    assert type(reread["food_weights.healthy_ceiling"]) is int
    assert type(reread["weights.cutoff"]) is float


def test_exporting_the_defaults_keeps_them_defaults_for_the_bot() -> None:
    reread = read_gbc_config(yaml.safe_load(yaml.safe_dump(gbc_yaml_mapping(default_gbc_config()))))
    assert dict(reread) == dict(GBC_DEFAULTS)
    assert not reread.used_defaults  # read from the YAML, not fallen back to


def test_configs_compare_and_hash_by_value() -> None:
    a, b = read_gbc_config({"weights": {"space": 2}}), read_gbc_config({"weights": {"space": 2.0}})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != read_gbc_config({"weights": {"space": 3}})


def test_with_values_coerces_like_the_bot_and_refuses_unknown_names() -> None:
    config = default_gbc_config().with_values({"search.max_depth": 99.9, "weights.space": 1})
    assert config["search.max_depth"] == 99 and config["weights.space"] == 1.0
    with pytest.raises(KeyError, match=r"weights\.spcae"):
        default_gbc_config().with_values({"weights.spcae": 1.0})


def test_yaml_text_reads_exponent_floats_and_y_n_like_yaml_v2() -> None:
    text = "weights:\n  space: 1e+06\n  cutoff: 2.5e3\n  food: 7\nsearch:\n  use_astar: y\n  max_depth: 4e1\n"
    config = load_gbc_yaml(text)
    assert not config.type_errors
    assert config["weights.space"] == 1e6 and config["weights.cutoff"] == 2500.0 and config["weights.food"] == 7.0
    assert config["search.use_astar"] is True and config["search.max_depth"] == 40
    assert load_gbc_yaml("search:\n  use_astar: n\n")["search.use_astar"] is False
    assert load_gbc_yaml("search:\n  algorithm: y2\n")["search.algorithm"] == "y2"  # only a bare y/n is a bool
    # Plain PyYAML would have read the same text as strings, which the bot never does.
    assert read_gbc_config(yaml.safe_load(text)).type_errors


def test_an_empty_yaml_file_is_all_zeros_and_the_dumped_text_round_trips() -> None:
    assert dict(load_gbc_yaml("")) == dict(read_gbc_config({}))
    config = read_gbc_config({"weights": {"space": 1e16}, "search": {"max_depth": 12}})
    assert dict(load_gbc_yaml(dump_gbc_yaml(config))) == dict(config)
    assert dict(load_gbc_yaml(dump_gbc_yaml(default_gbc_config()))) == dict(GBC_DEFAULTS)
