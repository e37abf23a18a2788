"""The order in which the two test workers take the test files (``conftest.py``: longest files first)."""
from pathlib import Path

from conftest import LONGEST_FILES, longest_first


def test_every_listed_file_exists():
    here = Path(__file__).resolve().parent
    missing = [name for name in LONGEST_FILES if not (here / name).is_file()]
    assert not missing
    assert len(set(LONGEST_FILES)) == len(LONGEST_FILES)


def test_listed_files_come_first_in_their_order_and_the_others_keep_theirs():
    files = ["tests/test_io.py", "tests/test_tutorials.py", "tests/test_cli.py", "tests/test_acceptance_ci_xor.py"]
    assert "test_io.py" not in LONGEST_FILES and "test_cli.py" not in LONGEST_FILES
    first = sorted(files[1::2], key=lambda f: LONGEST_FILES.index(Path(f).name))
    assert longest_first(files) == first + ["tests/test_io.py", "tests/test_cli.py"]
