"""``peftlint server`` whose worker process dies (SIGKILL, as the out-of-memory killer does) when it
starts building a model whose config says ``"peftlint_test_dies": true``; other models build.

The worker process is spawned: it imports this script as ``__mp_main__`` before it runs anything,
which is where the build is replaced. The server process (``__main__``) is left as it is."""

import os
import signal

if __name__ == "__mp_main__":
    from peftlint.model import build

    _real_build = build.build_inventory

    def _build_or_die(resolved, *args, **kwargs):
        if resolved.config.get("peftlint_test_dies"):
            os.kill(os.getpid(), signal.SIGKILL)
        return _real_build(resolved, *args, **kwargs)

    build.build_inventory = _build_or_die

if __name__ == "__main__":
    from peftlint.server import run

    run()
