"""The scheduler's settings go through api/settings.py like every other: defaults, values, refusals."""

from __future__ import annotations

import pytest

from api.settings import SettingError, Settings


def test_the_scheduler_settings_have_their_defaults_and_are_read_from_the_environment():
    defaults = Settings.from_env({})
    assert (defaults.scheduler_reminder_days, defaults.scheduler_extension_decision_days, defaults.scheduler_interval_seconds) == (3, 90, 3600.0)
    read = Settings.from_env({
        "AQP_SCHEDULER_REMINDER_DAYS": "5", "AQP_SCHEDULER_EXTENSION_DECISION_DAYS": "120", "AQP_SCHEDULER_INTERVAL_SECONDS": "60.5",
    })
    assert (read.scheduler_reminder_days, read.scheduler_extension_decision_days, read.scheduler_interval_seconds) == (5, 120, 60.5)


@pytest.mark.parametrize("variable, text", [
    ("AQP_SCHEDULER_REMINDER_DAYS", "three"),
    ("AQP_SCHEDULER_REMINDER_DAYS", "-1"),
    ("AQP_SCHEDULER_EXTENSION_DECISION_DAYS", "1.5"),
    ("AQP_SCHEDULER_INTERVAL_SECONDS", "soon"),
    ("AQP_SCHEDULER_INTERVAL_SECONDS", "nan"),
])
def test_a_scheduler_setting_it_cannot_mean_is_refused_naming_the_variable(variable, text):
    with pytest.raises(SettingError, match=variable):
        Settings.from_env({variable: text})
