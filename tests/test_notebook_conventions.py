"""House rules for every committed notebook (design doc, "Notebook conventions").

nbval checks that outputs reproduce; these tests check the notebooks were committed the way
the course promises: executed top to bottom by `python -m tinyllm execute`, clean metadata,
opening and self-check cells, and only a few cells exempt from output comparison.
"""

import json
import re

import nbformat
import pytest

from tinyllm.notebooks import KERNELSPEC, LANGUAGE_INFO, course_notebooks

NOTEBOOKS = course_notebooks()
MACHINE_PATH = re.compile(r"(/home/|/root/|/Users/|/tmp/|C:\\\\)")


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_setup.ipynb"


def test_one_python_version_for_all_notebooks():
    versions = {nbformat.read(p, as_version=4).metadata.get("language_info", {}).get("version")
                for p in NOTEBOOKS}
    assert len(versions) == 1, f"notebooks executed with different Pythons: {versions}"


def test_names_are_ordered_two_digit_prefixes():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == sorted(set(numbers))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
class TestNotebook:
    def test_valid_and_clean_metadata(self, path):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        language_info = dict(nb.metadata.get("language_info", {}))
        version = language_info.pop("version", "")
        assert set(nb.metadata) == {"kernelspec", "language_info"}
        assert nb.metadata.kernelspec == KERNELSPEC and language_info == LANGUAGE_INFO
        # JupyterLab writes the kernel's Python version on open: without it a learner who only
        # reads the notebook is asked to save it. Re-run `python -m tinyllm execute` to add it.
        assert re.fullmatch(r"3\.\d+\.\d+", version), "language_info.version missing"
        for cell in nb.cells:
            assert "execution" not in cell.metadata

    def test_executed_top_to_bottom(self, path):
        counts = [c.execution_count for c in code_cells(nbformat.read(path, as_version=4))]
        assert counts == list(range(1, len(counts) + 1)), "re-run with `python -m tinyllm execute`"

    def test_no_errors_or_machine_paths_in_outputs(self, path):
        nb = nbformat.read(path, as_version=4)
        for cell in code_cells(nb):
            assert all(out.output_type != "error" for out in cell.outputs)
        assert not MACHINE_PATH.search(json.dumps(nb))

    def test_opening_cell_states_goals_prerequisites_time(self, path):
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.cell_type == "markdown" and first.source.startswith("# ")
        for word in ("Prerequisites", "Time", "offline"):
            assert word.lower() in first.source.lower(), f"first cell should mention {word}"

    def test_ends_with_self_check_and_has_exercises(self, path):
        nb = nbformat.read(path, as_version=4)
        last = code_cells(nb)[-1]
        assert "assert" in last.source, "the last code cell is the self-check"
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "Exercise" in text and "<details>" in text

    def test_few_cells_exempt_from_nbval(self, path):
        cells = code_cells(nbformat.read(path, as_version=4))
        exempt = [c for c in cells if "NBVAL_IGNORE_OUTPUT" in c.source or "NBVAL_SKIP" in c.source]
        assert len(exempt) <= 0.3 * len(cells)


FENCED_CODE = re.compile(r"```")
DETAILS = re.compile(r"<details>(.*?)</details>", re.DOTALL)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_a_chinese_summary(path):
    nb = nbformat.read(path, as_version=4)
    summaries = [c for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("### 中文小结")]
    assert len(summaries) == 1, "each notebook has one '### 中文小结' cell (see notebooks/GLOSSARY.md)"
    assert len(summaries[0].source) > 200, "the 中文小结 should summarise the notebook, not only name it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solution_code_runs_in_hidden_cells(path):
    """A solution's code lives in a collapsed code cell tagged ``solution``, which nbval executes
    (so a solution that raises fails CI), and asserts what the solution claims; the <details>
    markdown holds only prose."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for hidden in DETAILS.findall(cell.source):
                assert not FENCED_CODE.search(hidden), (
                    "code inside <details> never runs; move it to a code cell tagged 'solution'")
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert solutions, "no solution cell: give the exercises' solutions runnable cells"
    for cell in solutions:
        assert cell.cell_type == "code" and cell.metadata.get("jupyter", {}).get("source_hidden"), (
            "a solution cell is a code cell with jupyter.source_hidden, collapsed until asked for")
        assert "assert" in cell.source, "a solution cell asserts what its solution says"
