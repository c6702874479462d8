"""The newcomer's path: README's two commands, and CI running the second."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands():
    text = (ROOT / "README.rst").read_text()
    section = text.split("Quick start\n===========", 1)[1].split("\n.. contents::", 1)[
        0
    ]
    return [
        line.strip() for line in section.splitlines() if line.startswith("    python3 ")
    ]


def test_readme_opens_with_exactly_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    demo, tests = commands
    assert "testproj/manage.py" in demo
    assert "pytest" in tests


def test_ci_runs_readmes_test_command_verbatim():
    script = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in script.splitlines()]
    assert quick_start_commands()[1] in lines
    # ... as its last step, so CI fails exactly when the test command fails.
    assert [line for line in lines if line and not line.startswith("#")][
        -1
    ] == quick_start_commands()[1]


def test_ci_sets_every_server_variable_the_tests_read():
    script = (ROOT / ".ci" / "run").read_text()
    settings = (ROOT / "tests" / "settings.py").read_text()
    needed = set(re.findall(r'"(TRACKER_TEST_[A-Z]+)"', settings)) - {
        "TRACKER_TEST_RUN_ID"
    }
    assert needed
    for name in needed:
        assert f"export {name}=" in script
    assert "export CI=true" in script


def test_readme_is_valid_restructuredtext():
    from docutils.core import publish_string

    publish_string(
        (ROOT / "README.rst").read_text(),
        writer="null",
        settings_overrides={"halt_level": 2, "report_level": 2},
    )
