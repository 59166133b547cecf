"""`python -m smart_lineart`: the command line."""
import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while the runtimes load: nothing started, nothing to say
    sys.exit(130)

sys.exit(main())
