"""Child processes that end with the process that started them, however it ended (SIGKILL included).

A thread in the child watches its parent's pid: when the parent is gone, the child is re-parented and
`os.getppid()` changes, and the child exits. (Linux's PR_SET_PDEATHSIG would fire when the *thread* that
started the child ends, and the server starts children from short-lived worker threads.)

    python -m index.lifeline PARENT_PID MODULE [ARGS ...]   runs MODULE as __main__ under that watch
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time

CHECK_S = 0.5


def hold(parent_pid: int) -> None:
    """Exit this process as soon as `parent_pid` is no longer its parent."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(CHECK_S)
        os._exit(70)  # the parent died: nobody reads what this process would still produce

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def command(module: str, *args: str) -> list[str]:
    """The command that runs `python -m module args` as a child of this process, ending with it."""
    return [sys.executable, "-m", "index.lifeline", str(os.getpid()), module, *args]


if __name__ == "__main__":
    parent, module, *rest = sys.argv[1:]
    hold(int(parent))
    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
