"""Proving minidl correct: gradient checks, the op-test harness and the op catalogue.

* :func:`gradcheck` (``minidl.testing.gradcheck``): backward() against central
  finite differences, for learners' own ops too;
* :func:`assert_close`: two results equal up to dtype-dependent tolerances, as PyTorch's;
* ``minidl.testing.harness``: the declarative op-test harness (needs hypothesis);
* ``minidl.testing.catalog``: every op of minidl declared as data for the harness;
* ``minidl.testing.table``: the gradient check of every op as a table (``minidl gradcheck``).
"""

from minidl.testing.assert_close import NotCloseError, assert_close
from minidl.testing.gradients import GradcheckError, gradcheck

__all__ = ["GradcheckError", "gradcheck", "NotCloseError", "assert_close"]
