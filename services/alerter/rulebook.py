"""The live rule set of the alerter, reloaded when the rule file changes.

A broken edit never takes the alerter down: the error is logged with file, rule and field, and
the previous rules stay active until the file is fixed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from newsmon.services.alerter.matching import CompiledRule, compile_rules
from newsmon.services.alerter.rules import Rule, RuleFileError, load_rules
from newsmon.shared.logs import log_event

logger = logging.getLogger(__name__)


class RuleBook:
    """Compiled rules plus the file they came from (None = the shipped defaults)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._mtime = self._file_mtime()
        self.rules: list[CompiledRule] = compile_rules(load_rules(path))

    def rule(self, rule_id: str) -> Rule | None:
        return next((compiled.rule for compiled in self.rules if compiled.rule.id == rule_id), None)

    def reload_if_changed(self) -> bool:
        """Reload after the file changed; True when new rules became active."""
        mtime = self._file_mtime()
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        try:
            self.rules = compile_rules(load_rules(self.path))
        except RuleFileError as error:
            log_event(logger, "rules.reload_failed", logging.ERROR, error=str(error), active_rules=len(self.rules))
            return False
        log_event(logger, "rules.reloaded", path=str(self.path), active_rules=len(self.rules))
        return True

    def _file_mtime(self) -> float | None:
        if self.path is None:
            return None
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None
