"""The live rule set of the alerter, reloaded when the rule file changes.

Changes are detected by content, not only by modification time, so an edit within the same
second, or a copy that keeps the old mtime, is still seen. A broken edit never takes the alerter
down: the error is logged with file, rule and field, counted, and the previous rules stay active
until the file is fixed.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from newsmon.services.alerter.matching import CompiledRule, compile_rules
from newsmon.services.alerter.metrics import RULE_RELOADS, RULES_ACTIVE
from newsmon.services.alerter.rules import RuleFileError, load_rules
from newsmon.shared.logs import log_event

logger = logging.getLogger(__name__)


class RuleBook:
    """Compiled rules plus the file they came from (None = the shipped defaults).

    Construction raises ``RuleFileError`` for a bad file: a service must not start on rules it
    cannot read.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._version = self._file_version()
        self.rules: list[CompiledRule] = compile_rules(load_rules(path))
        RULES_ACTIVE.set(len(self.rules))
        for outcome in ("ok", "error"):
            RULE_RELOADS.labels(outcome)

    def rule_ids(self) -> list[str]:
        """Ids of the active rules, in file order."""
        return [compiled.rule.id for compiled in self.rules]

    def reload_if_changed(self) -> bool:
        """Reload after the file changed; True when new rules became active."""
        version = self._file_version()
        if version == self._version:
            return False
        self._version = version
        try:
            self.rules = compile_rules(load_rules(self.path))
        except RuleFileError as error:
            log_event(logger, "rules.reload_failed", logging.ERROR, error=str(error), active_rules=len(self.rules))
            RULE_RELOADS.labels("error").inc()
            return False
        log_event(logger, "rules.reloaded", path=str(self.path), active_rules=len(self.rules))
        RULES_ACTIVE.set(len(self.rules))
        RULE_RELOADS.labels("ok").inc()
        return True

    def _file_version(self) -> str | None:
        """A digest of the file's content (or of why it cannot be read); None for the shipped defaults."""
        if self.path is None:
            return None
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError as error:
            return f"unreadable: {error.strerror}"
