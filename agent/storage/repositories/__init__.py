"""The SQL unit of work and the workspace-scoped repositories behind ``agent.core.ports``.

``uow.workspace(id)`` hands out a ``SqlWorkspaceScope``: the workspace row itself, add,
flush and delete, and one small repository per aggregate (``scope.team``,
``scope.conversations``, ...). Each one reads through ``Scoped._scoped``, so it only ever
sees that workspace's rows.
"""

from agent.storage.repositories.scope import SqlWorkspaceScope
from agent.storage.repositories.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = ["SqlUnitOfWork", "SqlUnitOfWorkFactory", "SqlWorkspaceScope"]
