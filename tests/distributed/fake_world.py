"""An in-process stand-in for MPI's communicator of a world of two identical ranks, so that the code paths
of more than one rank (host copies, buckets, layout checks) run inside one test process."""

from minidl.distributed import ProcessGroup


class FakeRequest:
    def Wait(self):
        return None


class TwinComm:
    """Rank 0 of two ranks whose values equal this one's: a sum doubles the buffer, a max keeps it. Records
    every call in ``calls``; ``others`` replaces what the other rank sends to ``allgather``."""

    def __init__(self, others=None, on_reduce=None):
        self.calls, self.others, self.on_reduce = [], others, on_reduce

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 2

    def _sum(self, buffer, op):
        from mpi4py import MPI
        if self.on_reduce:
            self.on_reduce(buffer)
        if op == MPI.SUM:
            buffer *= 2
        elif op == MPI.PROD:
            buffer *= buffer

    def Allreduce(self, send, buffer, op):
        self.calls.append(("Allreduce", buffer.size))
        self._sum(buffer, op)

    def Iallreduce(self, send, buffer, op):
        self.calls.append(("Iallreduce", buffer.size))
        self._sum(buffer, op)
        return FakeRequest()

    def Bcast(self, buffer, root):
        self.calls.append(("Bcast", buffer.size))

    def Allgather(self, send, receive):
        receive[...] = send

    def allgather(self, value):
        return [value, value if self.others is None else self.others]

    def Barrier(self):
        self.calls.append(("Barrier", 0))


def twin_group(**options):
    """A process group of rank 0 of 2 over a :class:`TwinComm`."""
    return ProcessGroup(0, 2, TwinComm(**options))
