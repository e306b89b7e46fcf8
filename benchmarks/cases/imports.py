"""Case 6: what importing the repositories costs a fresh interpreter."""

import subprocess
import sys

from benchmarks.databases import BenchDatabases
from benchmarks.harness import Case, Comparison, Contender, Profile, Target, library_against

ONE_PYDANTIC_MODEL = """
import sqlalchemy.orm
from pydantic import BaseModel

class OneField(BaseModel):
    value: int
"""


def import_seconds(code: str) -> float:
    """Run ``code`` (imports) in a fresh interpreter and return the CPU seconds it took.

    The child times the code itself, so the interpreter's own start-up, identical for every
    side, does not dilute the ratio. It counts CPU time: importing cached files is all CPU,
    and CPU time leaves out the moments other tenants of a shared machine hold the cores,
    which wall time would add to either side at random.
    """
    timed = (
        f"import time\n_start = time.process_time()\n{code}\nprint(time.process_time() - _start)"
    )
    output = subprocess.run(
        [sys.executable, "-c", timed], check=True, capture_output=True, text=True
    ).stdout
    return float(output)


def run(databases: BenchDatabases | None, profile: Profile) -> list[Comparison]:
    def importing(name: str, code: str) -> Contender:
        return Contender(
            name,
            lambda: sum(import_seconds(code) for _ in range(profile.imports)),
            ops=profile.imports,
        )

    library = importing("import aana.storage.repository", "import aana.storage.repository")
    baselines = [
        (
            importing("import sqlalchemy.orm", "import sqlalchemy.orm"),
            Target(1.5, note=IMPORT_BOUND),
        ),
        (importing("sqlalchemy.orm + one pydantic model (ref.)", ONE_PYDANTIC_MODEL), None),
    ]
    return library_against(
        CASE.name, "python", "import", library, baselines, profile.warmup, profile.fine_repetitions
    )


IMPORT_BOUND = (
    "The bound is pydantic. The types the repositories take and return (`Video`, "
    "`VideoMetadata`, the validated `MediaId`, the ASR models a transcript is built from) are "
    "pydantic models, so importing the repositories loads pydantic. The reference row, "
    "`sqlalchemy.orm` and a single one-field pydantic model, costs about what the "
    "repositories cost: the entities, the repositories and aana's own models add next to "
    "nothing to it (the settings, with pydantic-settings, dotenv and argparse, load only when "
    "asked for). Meeting 1.5x with a margin means not loading pydantic with the "
    "repositories, which their public types rule out."
)


CASE = Case(
    name="import",
    summary=(
        "a fresh interpreter (the benchmark's own Python, bytecode cached) timing "
        "`import aana.storage.repository` against one timing `import sqlalchemy.orm`, in CPU "
        "time, which on a shared machine is what an idle one's wall time would be; the "
        "start-up of the interpreter itself is left out of both. For reference, one importing "
        "`sqlalchemy.orm` and defining a single one-field pydantic model."
    ),
    run=run,
    needs_database=False,
)
