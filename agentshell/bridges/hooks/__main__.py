"""``python -m agentshell.bridges.hooks ...``: the lean entry of the vendor hook."""

import sys

from agentshell.bridges.hooks.entry import main

sys.exit(main(sys.argv[1:]))
