"""``agentshell hooks install|uninstall|status``: the vendors' hook configs that call
``agentshell hook`` for one AgentShell session (see docs/vendors.md).

Each vendor's file is merged, never overwritten: the user's other hooks and settings
stay, a backup of the file as it was is written beside it (``<file>.agentshell-backup``)
before the first change, installing twice changes nothing, and uninstalling removes only
the entries whose command runs our hook. No token is written: the hook finds the session
by its socket (``--socket``, or ``$AGENTSHELL_SOCKET`` when it runs) and reads the
operator token from beside it.
"""

from .api import MODES, VENDORS, config_path, hook_command, install, status, uninstall
from .common import InstallError, Report, is_ours

__all__ = [
    "MODES",
    "VENDORS",
    "InstallError",
    "Report",
    "config_path",
    "hook_command",
    "install",
    "is_ours",
    "status",
    "uninstall",
]
