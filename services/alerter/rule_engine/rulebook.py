"""The live rule set of the alerter: the rule file's rules, then the API's, reloaded when either changes.

File changes are detected by content, not only by modification time, so an edit within the same
second, or a copy that keeps the old mtime, is still seen. A broken edit never takes the alerter
down, whatever is wrong (bytes that are not UTF-8, a YAML bomb, a rule that does not validate, a
directory in the file's place): the error is logged with file, rule and field, counted
(``newsmon_rule_reloads_total{outcome="error"}``), and the previous rules stay active until the
file is fixed. API rules (``rule_store.py``) are validated before they are stored; a rule id in
the file wins over the same id added through the API.

With a ``RuleDirectory``, ``refresh`` also writes the active rules' ids, webhooks and priority to
Redis whenever they changed (and until a write succeeds), so the notifier routes alerts to a rule's
webhooks without the URLs ever travelling on the public ``alerts`` topic.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from services.alerter.metrics import RULE_RELOADS, RULES_ACTIVE
from services.alerter.rule_engine.matching import CompiledRule, compile_rules
from services.alerter.rule_engine.rule_store import RuleStore
from services.alerter.rule_engine.rules import Rule, RuleFileError, load_rules, parse_rule_file, read_rule_file
from shared.logs import log_event
from shared.rule_directory import RuleDirectory, RuleEntry

logger = logging.getLogger(__name__)


class RuleBook:
    """Compiled rules from the file (None = the shipped defaults) and, with a store, from the API.

    Construction raises ``RuleFileError`` for a bad file: a service must not start on rules it
    cannot read. API rules arrive with the first ``refresh``, which the alerter awaits before it
    evaluates anything.
    """

    def __init__(self, path: Path | None, store: RuleStore | None = None,
                 directory: RuleDirectory | None = None) -> None:
        self.path = path
        self.store = store
        self.directory = directory
        self._directory_stale = True
        content = self._read()
        if isinstance(content, RuleFileError):
            raise content
        self._version = self._file_version(content)
        self.file_rules: list[Rule] = (load_rules(None) if content is None or path is None
                                       else parse_rule_file(content, path))
        self.api_rules: list[Rule] = []
        self._api_version: int | None = None
        self.rules: list[CompiledRule] = []
        self._activate()
        for outcome in ("ok", "error"):
            RULE_RELOADS.labels(outcome)

    @property
    def loaded(self) -> bool:
        """True once the API rules (if any store) have been read."""
        return self.store is None or self._api_version is not None

    def rule_ids(self) -> list[str]:
        """Ids of the active rules: the file's in file order, then the API's by id."""
        return [compiled.rule.id for compiled in self.rules]

    def file_rule_ids(self) -> set[str]:
        return {rule.id for rule in self.file_rules}

    def reload_if_changed(self) -> bool:
        """Reload after the file changed; True when new rules became active. Never raises.

        A change is tried once: a broken file is reported when it appears, not on every check.
        """
        if self.path is None:
            return False
        content = self._read()
        version = self._file_version(content)
        if version == self._version:
            return False
        self._version = version
        previous = self.file_rules
        try:
            if isinstance(content, RuleFileError):
                raise content
            self.file_rules = parse_rule_file(content or b"", self.path)
            self._activate()
        except RuleFileError as error:
            self.file_rules = previous
            self._reload_failed(str(error))
            return False
        except Exception as error:  # a bug must not take the alerter down either; the traceback is logged
            self.file_rules = previous
            logger.exception("rules.reload_crashed")
            self._reload_failed(f"{self.path}: {type(error).__name__}: {error}")
            return False
        log_event(logger, "rules.reloaded", path=str(self.path), active_rules=len(self.rules))
        RULE_RELOADS.labels("ok").inc()
        return True

    async def refresh(self) -> bool:
        """Reload whatever changed, the file or the API rules; True when new rules became active."""
        file_changed = self.reload_if_changed()
        changed = await self._reload_api_rules() or file_changed
        if self.directory is not None and self._directory_stale:
            await self.directory.replace(RuleEntry(compiled.rule.id, tuple(compiled.rule.webhooks),
                                                   compiled.rule.priority) for compiled in self.rules)
            self._directory_stale = False
        return changed

    async def _reload_api_rules(self) -> bool:
        if self.store is None:
            return False
        version = await self.store.version()
        if version == self._api_version:
            return False
        self.api_rules = await self.store.rules()
        self._api_version = version
        self._activate()
        log_event(logger, "rules.api_reloaded", api_rules=len(self.api_rules), active_rules=len(self.rules))
        RULE_RELOADS.labels("ok").inc()
        return True

    def _activate(self) -> None:
        file_ids = self.file_rule_ids()
        shadowed = sorted(rule.id for rule in self.api_rules if rule.id in file_ids)
        if shadowed:
            log_event(logger, "rules.api_rule_shadowed", logging.WARNING, rule_ids=",".join(shadowed),
                      reason="the rule file has rules with these ids; the file's are active")
        api_active = [rule for rule in self.api_rules if rule.enabled and rule.id not in file_ids]
        self.rules = compile_rules([*self.file_rules, *api_active])
        self._directory_stale = True
        RULES_ACTIVE.set(len(self.rules))

    def _reload_failed(self, reason: str) -> None:
        log_event(logger, "rules.reload_failed", logging.ERROR, error=reason, active_rules=len(self.rules))
        RULE_RELOADS.labels("error").inc()

    def _read(self) -> bytes | RuleFileError | None:
        """The file's bytes, or why it cannot be read; None for the shipped defaults."""
        if self.path is None:
            return None
        try:
            return read_rule_file(self.path)
        except RuleFileError as error:
            return error

    @staticmethod
    def _file_version(content: bytes | RuleFileError | None) -> str | None:
        """A digest of the file's content, or why it cannot be read; None for the shipped defaults."""
        if isinstance(content, RuleFileError):
            return f"unreadable: {content}"
        return None if content is None else hashlib.sha256(content).hexdigest()
