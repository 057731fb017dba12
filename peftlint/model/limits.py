"""How large a model peftlint builds: a config.json of a few bytes can ask for ten million layers.

Three guards, cheapest first, all measured in modules (``max-model-modules``):

1. a count in the config (``num_hidden_layers``, ``num_experts``, ``depths``...) that alone exceeds
   the limit is refused before transformers even reads the config (which may already allocate
   per-layer lists, or one label name per ``num_labels``);
2. when a count is far above what real models have, the model is first built with every count set
   to 1 and to 2; what one more repetition adds, times the largest count, estimates the full
   model, and an estimate over the limit is refused without the full build;
3. the full build counts every module as it is created and is stopped at the limit.

torch is imported only by the functions that build.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    from peftlint.model.resolve import Resolved

# config.json keys that count repeated blocks (layers, experts, labels)
_COUNT_KEY = re.compile(r"^(n|num)_\w*(layer|block|expert|stage|label)s?$|(layers|blocks|experts|stages|depths?|n_layer)$",
                        re.IGNORECASE)
PROBE_ABOVE = 512  # counts up to this are built directly (real models have at most a few hundred layers)
_MAX_DEPTH = 8


class TooManyModules(BaseException):
    """Raised from inside a build (a BaseException, so no ``except Exception`` on the way swallows it)."""


def too_large(label: str, what: str, limit: int) -> str:
    return (f"the config of {label} asks for {what}; peftlint builds models of at most {limit:,} modules "
            "(the largest real models have a few thousand), so it was not built. If this is intended, raise "
            "max-model-modules in [tool.peftlint]")


def _counts(config: Any, depth: int = 0, key: str = "") -> Iterator[int]:
    """Every count in the config: ints under count keys, and the sum of int lists (``depths``)."""
    if isinstance(config, dict) and depth < _MAX_DEPTH:
        for k, v in config.items():
            yield from _counts(v, depth + 1, str(k))
    elif _COUNT_KEY.search(key):
        if isinstance(config, int) and not isinstance(config, bool):
            yield config
        elif isinstance(config, list):
            yield sum(v for v in config if isinstance(v, int) and not isinstance(v, bool))


def check_config_size(config: dict[str, Any], max_modules: int) -> str:
    """What in the config alone exceeds ``max_modules`` ("num_hidden_layers=10,000,000"), or ""."""
    stack: list[tuple[str, Any, int]] = [("", config, 0)]
    while stack:
        key, value, depth = stack.pop()
        if isinstance(value, dict) and depth < _MAX_DEPTH:
            stack.extend((str(k), v, depth + 1) for k, v in value.items())
        elif _COUNT_KEY.search(key) and isinstance(value, list):
            total = sum(v for v in value if isinstance(v, int) and not isinstance(v, bool))
            if total > max_modules:
                return f"{key} adding up to {total:,}"
        elif _COUNT_KEY.search(key) and isinstance(value, int) and not isinstance(value, bool) and value > max_modules:
            return f"{key}={value:,}"
    return ""


def _with_counts(config: Any, n: int, depth: int = 0, key: str = "") -> Any:
    if isinstance(config, dict) and depth < _MAX_DEPTH:
        return {k: _with_counts(v, n, depth + 1, str(k)) for k, v in config.items()}
    if _COUNT_KEY.search(key) and isinstance(config, int) and not isinstance(config, bool) and config > 0:
        return n
    if _COUNT_KEY.search(key) and isinstance(config, list) and config and all(
            isinstance(v, int) and not isinstance(v, bool) for v in config):
        return [n] * len(config)
    return config


def estimated_too_large(resolved: "Resolved", max_modules: int, build: Callable[["Resolved"], Any]) -> str:
    """For a config with a count above ``PROBE_ABOVE``: build it with every count at 1 and at 2 and
    extrapolate; "about N modules" when that exceeds ``max_modules``, else "" (also when a probe
    cannot be built: the full build's own guard then decides)."""
    largest = max(_counts(resolved.config), default=0)
    if largest <= PROBE_ABOVE:
        return ""
    sizes = []
    for n in (1, 2):
        probe = dataclasses.replace(resolved, config=_with_counts(resolved.config, n))
        try:
            with module_limit(max_modules):
                model = build(probe)
        except (Exception, TooManyModules):
            return ""
        sizes.append(sum(1 for _ in model.modules()))
    estimate = sizes[0] + max(sizes[1] - sizes[0], 0) * (largest - 1)
    return f"about {estimate:,} modules ({largest:,} repeated blocks)" if estimate > max_modules else ""


@contextlib.contextmanager
def module_limit(limit: int) -> Iterator[None]:
    """Count every module created while a model is built; past ``limit``, abort the build.

    Modules are counted as they are created (``torch.nn.Module.__init__``), not when registered: a
    ``ModuleList([nn.Embedding(...) for _ in range(config.num_codebooks)])`` creates all of its
    modules before it registers the first, whatever config key sets the count.
    """
    import torch

    module_cls = torch.nn.Module
    original = module_cls.__init__
    count = 0

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal count
        count += 1
        if count > limit:
            raise TooManyModules()
        original(self, *args, **kwargs)

    module_cls.__init__ = counting_init  # type: ignore[method-assign]
    try:
        yield
    finally:
        module_cls.__init__ = original  # type: ignore[method-assign]
