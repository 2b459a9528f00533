"""The package's layout is what the README says it is, and every module has its tests beside the others'."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "convlstm"
# The commands' short names for `python -m`: each only calls its command in convlstm.commands.
ALIASES = {"train.py", "evaluate.py", "nowcast.py", "realradar.py"}


def modules() -> set[str]:
    return {str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}


def test_the_readme_module_table_lists_every_module_and_no_other():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| module | what is in it |"):]
    table = table[:table.index("\n\n")]
    listed = set(re.findall(r"`(convlstm/[\w/]+\.py)`", table))
    assert listed == modules()


def test_every_module_has_a_test_file_that_mirrors_its_place():
    missing = []
    for module in sorted(modules()):
        path = Path(module).relative_to("convlstm")
        if path.name in ALIASES and path.parent == Path("."):
            continue  # tested through their commands (tests/commands/) and as `python -m` in test_train, test_scripts
        test = ROOT / "tests" / path.parent / f"test_{path.name}"
        if not test.is_file():
            missing.append(f"{module} → {test.relative_to(ROOT)}")
    assert not missing, "modules without a test file:\n" + "\n".join(missing)
