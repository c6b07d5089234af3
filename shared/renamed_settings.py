"""Settings that changed name: their old names still work for one release, with a warning.

``Settings`` reads these after the environment and ``.env`` (``settings_customise_sources``), so a
variable given under its new name always wins over the old one.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from dotenv import dotenv_values
from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

# Variables renamed so every duration ends in ``_s``: old name -> (new field, factor to seconds). The
# old names still work for one release, with a ``RenamedSettingWarning``; the new name wins if both are set.
RENAMED_VARIABLES: dict[str, tuple[str, float]] = {
    "NEWSMON_FEED_POLL_SECONDS": ("feed_poll_s", 1),
    "NEWSMON_DEDUPE_TTL_SECONDS": ("dedupe_ttl_s", 1),
    "NEWSMON_NER_BATCH_MS": ("ner_batch_wait_s", 0.001),
    "NEWSMON_RULES_RELOAD_SECONDS": ("rules_reload_s", 1),
    "NEWSMON_ALERT_STATE_TTL_SECONDS": ("alert_state_ttl_s", 1),
}


class RenamedSettingWarning(FutureWarning):
    """A setting was given under the name it had before; it stops working in the next release."""


class RenamedVariables(PydanticBaseSettingsSource):
    """Values given under a ``RENAMED_VARIABLES`` name (environment or ``.env``), under their new field."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        env_file = self.settings_cls.model_config.get("env_file")
        given = {**(dotenv_values(env_file) if isinstance(env_file, str) else {}), **os.environ}
        found: dict[str, Any] = {}
        for old, (new, factor) in RENAMED_VARIABLES.items():
            value = given.get(old)
            if not value:  # unset or empty, as for every other variable
                continue
            warnings.warn(f"{old} is now NEWSMON_{new.upper()}; the old name stops working in the next release",
                          RenamedSettingWarning, stacklevel=2)
            try:
                found[new] = float(value) * factor if factor != 1 else value
            except ValueError:
                found[new] = value  # validation names the field and the problem
        return found
