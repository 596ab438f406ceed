"""Optimizers and learning-rate schedulers, named as in ``torch.optim``.

``Optimizer`` is the base class; ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad`` and
``Adadelta`` update the parameters' arrays in place. ``minidl.optim.lr_scheduler`` holds the schedulers.
"""

from minidl.optim import lr_scheduler
from minidl.optim.adadelta import Adadelta
from minidl.optim.adagrad import Adagrad
from minidl.optim.adam import Adam, AdamW
from minidl.optim.optimizer import Optimizer
from minidl.optim.rmsprop import RMSprop
from minidl.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler"]
