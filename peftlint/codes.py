"""The one table of codes: every rule's code, named after the rule.

``Code.INVALID_ADAPTER_CONFIG`` is PFT401, the rule ``invalid-adapter-config`` defined in
``rules/weights/pft401_invalid_adapter_config.py``. Readers and the engine, which sit below the rules,
emit findings through these names (a ``Problem`` the engine turns into the rule's diagnostic), so a
grep for a code or a rule name finds every place that reports it. tests/rules/test_codes.py checks
the table against the rules: one entry per rule, same code, same name.
"""

from __future__ import annotations

from peftlint.strenum import StrEnum


class Code(StrEnum):
    # rules/targets/
    UNMATCHED_TARGET = "PFT101"
    UNMATCHED_REGEX = "PFT102"
    UNSUPPORTED_MODULE = "PFT103"
    HEAD_TARGETED = "PFT104"
    EMBEDDING_TARGETED = "PFT105"
    NO_DEFAULT_TARGETS = "PFT106"
    PARTIAL_COVERAGE = "PFT107"
    SEVERAL_TOWERS = "PFT108"
    MOE_EXPERTS_UNREACHED = "PFT109"
    ALL_EXCLUDED = "PFT110"
    # rules/form/
    REGEX_IN_LIST = "PFT201"
    SHORTHAND_IN_LIST = "PFT202"
    MALFORMED_NAME = "PFT203"
    DUPLICATE_ENTRY = "PFT204"
    EMPTY_TARGETS = "PFT205"
    REGEX_WITH_LAYER_FILTER = "PFT206"
    FEEDFORWARD_NOT_SUBSET = "PFT207"
    PARAMETER_TARGET_CONFLICT = "PFT208"
    UNKNOWN_ARGUMENT = "PFT209"
    INVALID_VALUE = "PFT210"
    REJECTED_BY_PEFT = "PFT211"
    SLOW_REGEX = "PFT212"
    # rules/fields/
    LAYER_OUT_OF_RANGE = "PFT301"
    LAYERS_PATTERN_NOT_FOUND = "PFT302"
    LAYER_FILTER_BYPASSED = "PFT303"
    UNMATCHED_PATTERN_KEY = "PFT304"
    OVERLAPPING_PATTERN_KEYS = "PFT305"
    UNMATCHED_MODULES_TO_SAVE = "PFT306"
    TARGET_ALSO_SAVED = "PFT307"
    UNMATCHED_EXCLUDE = "PFT308"
    FAN_IN_FAN_OUT_MISMATCH = "PFT309"
    TASK_TYPE_MISMATCH = "PFT310"
    UNMATCHED_TARGET_PARAMETER = "PFT311"
    RANK_NOT_LOW_RANK = "PFT312"
    # rules/weights/
    INVALID_ADAPTER_CONFIG = "PFT401"
    WEIGHT_SHAPE_MISMATCH = "PFT402"
    RANK_MISMATCH = "PFT403"
    WEIGHT_KEY_MISMATCH = "PFT404"
    EMPTY_TENSOR = "PFT405"
    UNREADABLE_WEIGHTS = "PFT406"
    BASE_MODEL_MISMATCH = "PFT407"
    # rules/meta/
    UNRESOLVED_MODEL = "PFT901"
    SYNTAX_ERROR = "PFT902"
    REMOTE_CODE_REQUIRED = "PFT903"
    DYNAMIC_VALUE = "PFT904"
    UNUSED_SUPPRESSION = "PFT905"
    UNPARSED_CELL = "PFT906"
    FILE_NOT_READ = "PFT907"
    NEWER_SYNTAX = "PFT908"
    INTERNAL_ERROR = "PFT999"

    @property
    def rule_name(self) -> str:
        """The rule's name, as ``peftlint rule`` and ``--select`` accept it: ``invalid-adapter-config``."""
        return self.name.lower().replace("_", "-")
