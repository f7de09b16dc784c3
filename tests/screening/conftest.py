from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def shared_data():
    """../shared/data beside the checkout; tests that need it skip in a user's clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (it exists on the team's machines and in CI)")
    return SHARED_DATA


@pytest.fixture
def sample(shared_data):
    """sample('ris/asreview/embase.ris') -> Path of an import sample."""

    def path(relative):
        return shared_data / "import-samples" / relative

    return path
