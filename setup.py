"""The package list, which pyproject.toml cannot state: `packages.find` there cannot add a
package that lives outside archcalc/. Every package under archcalc/ is found (a new subpackage
ships without an edit here), and the zoo in the top-level specs/ directory ships as the package
archcalc.specs (package-dir and package-data in pyproject.toml). Everything else is in
pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["archcalc", "archcalc.*"]), "archcalc.specs"])
