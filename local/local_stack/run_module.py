"""`python -m local_stack.run_module MODULE ARGS...`: run MODULE as __main__, exiting when the stack goes.

Used for the TikTok emulator, whose own entry point knows nothing of the stack.
"""

from __future__ import annotations

import runpy
import sys

from local_stack.procs import watch_stdin_then_exit


def main() -> None:
    """Run the module named by the first argument with the remaining arguments."""
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    watch_stdin_then_exit()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
