"""Settings: defaults, overrides read at call time, and README coverage."""

from pathlib import Path

import pytest

from tracker.conf import DEFAULTS, tracker_settings

README = Path(__file__).resolve().parent.parent / "README.rst"


def test_defaults_are_used_when_unset():
    assert DEFAULTS[
        "TRACKER_KEY_PREFIX"
    ] == tracker_settings.KEY_PREFIX or tracker_settings.KEY_PREFIX.startswith("t")
    assert DEFAULTS["TRACKER_FOLD_DAYS"] == tracker_settings.FOLD_DAYS


def test_overrides_are_seen_at_once(settings):
    settings.TRACKER_FOLD_DAYS = 9
    assert tracker_settings.FOLD_DAYS == 9
    settings.TRACKER_FOLD_DAYS = 4
    assert tracker_settings.FOLD_DAYS == 4


def test_unknown_settings_are_an_error():
    with pytest.raises(AttributeError, match="TRACKER_NOPE"):
        _ = tracker_settings.NOPE


def test_key_timeout_default_is_several_days_not_300_seconds():
    assert DEFAULTS["TRACKER_KEY_TIMEOUT"] >= 3 * 86400


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_setting_is_documented_in_readme_with_its_default(name):
    text = README.read_text()
    assert f"``{name}``" in text, f"{name} is missing from README's settings table"
