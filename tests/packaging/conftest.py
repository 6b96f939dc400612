"""Session fixtures of the container tests (see dockerenv.py): the engine and the images are
made once per pytest run, however many of test_container/compose/systemd_unit run in it."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import dockerenv  # noqa: E402


@pytest.fixture(scope="session")
def docker_engine():
    """A Docker engine that answers; skips (with the reason) only if dockerd cannot start."""
    why = dockerenv.start_engine()
    if why:
        pytest.skip(why)
    yield
    dockerenv.remove_test_images()


@pytest.fixture(scope="session")
def relay_image(docker_engine):
    """deploy/docker/Dockerfile built from the working tree (compiles wsrelay inside)."""
    return dockerenv.build(dockerenv.RELAY_IMAGE, dockerenv.ROOT / "deploy/docker/Dockerfile",
                           dockerenv.ROOT, "docker-build-wsrelay.log")
