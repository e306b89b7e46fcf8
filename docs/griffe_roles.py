"""Show the Sphinx roles of aana's docstrings as code on the documentation site.

The docstrings cross-reference with roles (``:class:`~aana.configs.DbSettings```), which the
Google-style parser leaves as they are. Each becomes inline code of the name it shows: the
last part after ``~``, the title of ``title <target>``, the whole name otherwise.
"""

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:attr|class|data|exc|func|meth|mod|obj):`(~?)([^`<]+?)(?:\s*<[^>]+>)?`")


def _as_code(match: re.Match[str]) -> str:
    tilde, name = match.group(1), match.group(2).strip()
    return f"`{name.rsplit('.', 1)[-1] if tilde else name}`"


class SphinxRolesAsCode(griffe.Extension):
    """Rewrites the roles of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the roles in ``obj``'s docstring, if it has one.

        Args:
            obj (griffe.Object): The module, class, function or attribute just loaded.
            **kwargs (Any): The hook's other arguments, unused.
        """
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_as_code, obj.docstring.value)
