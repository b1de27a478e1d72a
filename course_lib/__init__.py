"""course_lib: the companion library of the course "LLM principles and engineering practice".

Each public function and class names, in its docstring, the notebook that introduces it
("Defined in: notebooks/..."), and the notebooks import it from here, so the book and the
library cannot drift apart (tests/test_book_library_sync.py checks this).
"""

from .config import DATA_DIR, ROOT, choose, configure_threads, get_device, is_fast, set_seed  # noqa: F401
from .source import show_source  # noqa: F401

__version__ = "0.1.0"

configure_threads()
