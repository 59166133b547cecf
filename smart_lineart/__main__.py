"""`python -m smart_lineart`: the command line."""
import sys

from .errors import by_ctrl_c

try:
    from .cli import main
except BaseException as e:
    if by_ctrl_c(e):  # Ctrl-C while the runtimes load: nothing started, nothing to say
        sys.exit(130)
    raise

sys.exit(main())
