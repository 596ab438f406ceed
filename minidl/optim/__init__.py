"""Optimizers and learning-rate schedulers, named as in ``torch.optim``.

``Optimizer`` is the base class; ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad`` and
``Adadelta`` update the parameters' arrays in place. ``minidl.optim.lr_scheduler`` holds the schedulers.
"""

from minidl.optim import lr_scheduler
from minidl.optim import swa_utils
from minidl.optim.adadelta import Adadelta
from minidl.optim.adagrad import Adagrad
from minidl.optim.adam import Adam, AdamW
from minidl.optim.adam_variants import Adamax, NAdam, RAdam
from minidl.optim.asgd import ASGD
from minidl.optim.lbfgs import LBFGS
from minidl.optim.optimizer import Optimizer
from minidl.optim.rmsprop import RMSprop
from minidl.optim.rprop import Rprop
from minidl.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam", "RAdam", "Adamax", "ASGD",
           "Rprop", "LBFGS", "lr_scheduler", "swa_utils"]
