"""The repository's set-up files agree with each other."""

import re

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import yaml

from tinyllm.paths import REPO_ROOT


def pyproject():
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def environment_pip_requirements():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return [r for r in pip_section if not r.startswith("-")]


def test_environment_yml_mirrors_pyproject():
    project = pyproject()["project"]
    expected = project["dependencies"] + project["optional-dependencies"]["test"]
    assert sorted(environment_pip_requirements()) == sorted(expected)


def test_layout_fixed_by_design():
    for name in ["notebooks", "tinyllm", "data", "tests", "environment.yml", "README.md",
                 "pyproject.toml", ".ci/run", ".gitignore"]:
        assert (REPO_ROOT / name).exists(), name


def readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text()
    match = re.search(r"test command is `([^`]+)`", readme)
    assert match, "README must say: the test command is `...`"
    return match.group(1)


def test_ci_runs_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    command = readme_test_command()
    assert re.search(rf"^{re.escape(command)} \|\| status=\$\?$", ci, re.MULTILINE), command


def test_ci_installs_pinned_cpu_torch_before_the_project():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    torch_at = ci.index("pip install --quiet torch==2.13.0 ")
    assert torch_at < ci.index("pip install --quiet -e")


def test_pytest_runs_nbval_strict_with_one_sanitize_file():
    options = pyproject()["tool"]["pytest"]["ini_options"]
    assert "--nbval" in options["addopts"] and "--nbval-lax" not in options["addopts"]
    assert "--nbval-sanitize-with=tests/sanitize.cfg" in options["addopts"]
    assert options["testpaths"] == ["tests", "notebooks"]
    assert (REPO_ROOT / "tests" / "sanitize.cfg").is_file()
