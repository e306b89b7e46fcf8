"""``aana init``: the files an app needs for its own entities, migrations and tests."""

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

_PLACEHOLDER = "{{package}}"


@dataclass(frozen=True)
class _File:
    template: str
    target: str
    starter: bool = False
    """A starter is written only where no such file exists; the others must not exist."""


_FILES = (
    _File("alembic.ini.tmpl", "{{package}}/alembic.ini"),
    _File("env.py.tmpl", "{{package}}/migrations/env.py"),
    _File("script.py.mako", "{{package}}/migrations/script.py.mako"),
    _File("app.py.tmpl", "{{package}}/app.py"),
    _File("conftest.py.tmpl", "tests/conftest.py"),
    _File("tox.ini.tmpl", "tox.ini"),
    _File("init.py.tmpl", "{{package}}/__init__.py", starter=True),
    _File("models.py.tmpl", "{{package}}/models.py", starter=True),
    _File("pyproject.toml.tmpl", "pyproject.toml", starter=True),
)
_VERSIONS = "{{package}}/migrations/versions"


class ScaffoldError(Exception):
    """The app cannot be scaffolded as asked; nothing was written."""


@dataclass(frozen=True)
class Scaffold:
    """What ``aana init`` did.

    Attributes:
        written (tuple[Path, ...]): The files written.
        kept (tuple[Path, ...]): The starter files that existed already and were left as
            they were.
    """

    written: tuple[Path, ...]
    kept: tuple[Path, ...]


def init_app(package: str, root: Path) -> Scaffold:
    """Write the files of an app's migrations and tests into a project.

    The package gets ``alembic.ini`` (naming ``<package>.models`` as its models module),
    ``migrations/`` with ``env.py``, ``script.py.mako`` and ``versions/``, and ``app.py``
    with the ``AanaSDK`` that ``aana migrate <package>.app:aana_app`` names; the project gets
    ``tests/conftest.py`` and a ``tox.ini`` with ``sqlite`` and ``postgres`` environments
    and the plugin's pytest settings. ``<package>/__init__.py``, ``<package>/models.py`` and
    ``pyproject.toml`` are written only where they do not exist yet.

    Args:
        package (str): The app's import package, a directory of ``root``.
        root (Path): The project's root directory.

    Returns:
        Scaffold: The files written and the starters kept.

    Raises:
        ScaffoldError: If ``package`` is not a Python package name, or one of the files
            that are not starters exists already; nothing is written then.
    """
    if not package.isidentifier() or not package.isascii():
        raise ScaffoldError(
            f"{package!r} is not a Python package name (letters, digits and underscores)"
        )
    templates = files(__name__) / "templates"
    targets = [(spec, root / spec.target.replace(_PLACEHOLDER, package)) for spec in _FILES]
    taken = [path for spec, path in targets if path.exists() and not spec.starter]
    if taken:
        names = ", ".join(str(path) for path in taken)
        raise ScaffoldError(f"not overwriting existing files: {names}; nothing written")
    written, kept = [], []
    for spec, path in targets:
        if path.exists():
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (templates / spec.template).read_text(encoding="utf-8")
        if spec.template.endswith(".tmpl"):
            text = text.replace(_PLACEHOLDER, package)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    versions = root / _VERSIONS.replace(_PLACEHOLDER, package)
    versions.mkdir(parents=True, exist_ok=True)
    # Git keeps no empty folder, and Alembic needs this one to write the first revision.
    keep = versions / ".gitkeep"
    keep.touch()
    written.append(keep)
    return Scaffold(tuple(written), tuple(kept))
