import pytest

from tests.nodes import collect_static


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """The production static files (hashed names, compressed), as `make serve` collects them."""
    root = tmp_path_factory.mktemp("static")
    collect_static(root)
    return root
