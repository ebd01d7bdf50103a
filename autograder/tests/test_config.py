import itertools

import pytest

from autograder.config import ConfigError, default_config, load_config, parse_config
from autograder.core.conventions import DERIVATIVES_AT_ZERO, JACOBIAN_FORMS, LOSSES, Conventions
from autograder.homeworks.two_layer_net import HOMEWORK

PART_IDS = HOMEWORK.part_ids


def test_shipped_config_is_valid_and_covers_every_part():
    config = load_config()
    assert set(config.parts) == set(PART_IDS)
    assert config.total_points == 20


def test_empty_config_gives_defaults():
    assert parse_config({}) == default_config()


def test_part_override():
    config = parse_config({"parts": {"grad.W1": {"points": 5, "rtol": 1e-3}}})
    assert config.parts["grad.W1"].points == 5
    assert config.parts["grad.W1"].tolerance.rtol == 1e-3
    assert config.parts["grad.b1"].tolerance.rtol == 1e-4


@pytest.mark.parametrize("raw,message", [
    ({"parts": {"grad.w1": {"points": 1}}}, "unknown part id 'grad.w1'"),
    ({"parts": {"loss": {"points": -1}}}, 'parts."loss".points must be between'),
    ({"parts": {"loss": {"points": "two"}}}, 'parts."loss".points must be a number'),
    ({"parts": {"loss": {"pionts": 1}}}, 'unknown setting parts."loss".pionts'),
    ({"parts": {"loss": 3}}, "must be a table"),
    ({"limits": {"call_timeout": 0}}, "limits.call_timeout must be between"),
    ({"limits": {"memory_mb": 1.5}}, "limits.memory_mb must be a whole number"),
    ({"limits": {"timeouts_before_skip": True}}, "must be a whole number"),
    ({"grading": {"hidden_cases_visibility": "secret"}}, "must be one of visible, hidden"),
    ({"assignment": {"jacobians": "vector"}},
     "assignment.jacobians must be one of matrix, diagonal, either; got 'vector'"),
    ({"assignment": {"relu_derivative_at_zero": 0.5}},
     "assignment.relu_derivative_at_zero must be one of 0, 1, either; got 0.5"),
    ({"assignment": {"relu_derivative_at_zero": True}}, "must be one of 0, 1, either; got True"),
    ({"assignment": {"loss": "average"}}, "assignment.loss must be one of sum, mean; got 'average'"),
    ({"assignment": {"homework": "nyu"}}, "assignment.homework must be one of two-layer-net, nyu-hw1; got 'nyu'"),
    ({"assignment": {"loss_kind": "sum"}}, "unknown setting assignment.loss_kind; allowed here: homework, jacobians, "
                                           "relu_derivative_at_zero, loss"),
    ({"grading": {"hidden_share": 1.5}}, "grading.hidden_share must be between 0 and 1"),
    ({"tolerance": {"rtol": float("nan")}}, "tolerance.rtol must be a number"),
    ({"tolerances": {}}, "unknown setting tolerances"),
    ({"tolerance": {"rtoll": 1e-3}}, "unknown setting tolerance.rtoll; allowed here: rtol, atol"),
    ({"runtime": {"packages": ["tensorflow"]}}, "runtime.packages: 'tensorflow' is not a package the grader can "
                                                "install; it can: matplotlib"),
    ({"runtime": {"packages": "matplotlib"}}, "runtime.packages must be a list of package names"),
    ({"runtime": {"modules": []}}, "unknown setting runtime.modules"),
])
def test_bad_values_are_named(raw, message):
    with pytest.raises(ConfigError, match=None) as info:
        parse_config(raw)
    assert message in str(info.value)


def test_conventions_default_to_the_handout_s_and_take_each_accepted_value():
    assert default_config().conventions == Conventions("matrix", 0, "sum")
    for jacobians, at_zero, loss in itertools.product(JACOBIAN_FORMS, DERIVATIVES_AT_ZERO, LOSSES):
        raw = {"assignment": {"jacobians": jacobians, "relu_derivative_at_zero": at_zero, "loss": loss}}
        assert parse_config(raw).conventions == Conventions(jacobians, at_zero, loss)


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "grading.toml"
    bad.write_text("[limits]\ncall_timeout = = 3\n")
    with pytest.raises(ConfigError, match="grading.toml: not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    bad.write_text('[parts]\n"relu" = { points = -2 }\n')
    with pytest.raises(ConfigError, match=r"grading.toml: parts.\"relu\".points"):
        load_config(bad)


def test_runtime_packages_are_what_student_code_may_import():
    assert parse_config({}).student_packages == ("numpy",)
    assert parse_config({"runtime": {"packages": ["Matplotlib"]}}).student_packages == ("numpy", "matplotlib")
