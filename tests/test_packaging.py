"""A non-editable `pip install .` carries every package of the project, the app's stylesheet and the explanations."""

import tomllib

from tests.conftest import ROOT


def test_every_package_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = [".".join(init.parent.relative_to(ROOT).parts)
             for top in ("labapp", "lessons") for init in (ROOT / top).rglob("__init__.py")]
    assert sorted(config["packages"]) == sorted(found)
    assert "*.tcss" in config["package-data"]["labapp"]
    assert "text/*.md" in config["package-data"]["lessons"]  # the lessons' explanations
