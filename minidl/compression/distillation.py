"""Knowledge distillation: a small student learns from a large teacher's softened predictions.

With temperature T the teacher's logits t and the student's logits s become the distributions
softmax(t/T) and softmax(s/T); a T above 1 spreads the teacher's probability over the classes
it finds *almost* right, which is what the student learns from ("dark knowledge"). The loss

    L = α · T² · KL(softmax(t/T) ‖ softmax(s/T))  +  (1 − α) · CE(s, y)

mixes that soft target with the ordinary cross-entropy on the labels y. The KL term's gradient
shrinks as 1/T², so T² keeps both terms on one scale whatever T is (Hinton et al., 2015).
The KL divergence is :func:`minidl.nn.functional.kl_div` with ``reduction='batchmean'``.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from minidl.core import no_grad
from minidl.core.arguments import number, probability
from minidl.core.errors import ShapeError
from minidl.nn import functional as F


def distillation_loss(student_logits, teacher_logits, target, temperature=2.0, alpha=0.5):
    """α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·cross_entropy(student, target).

    ``student_logits`` and ``teacher_logits`` are (N, C); ``target`` holds class indices (N,).
    The teacher is a fixed target: its logits are detached, so no gradient reaches the teacher.
    """
    temperature = number(temperature, "distillation_loss", "temperature", above=0.0)
    alpha = probability(alpha, "distillation_loss", "alpha")
    if student_logits.ndim != 2 or tuple(student_logits.shape) != tuple(teacher_logits.shape):
        raise ShapeError(f"distillation_loss: expected student and teacher logits of one shape (N, C), got "
                         f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}")
    soft_targets = F.softmax(teacher_logits.detach() / temperature, dim=-1)
    log_student = F.log_softmax(student_logits / temperature, dim=-1)
    soft = F.kl_div(log_student, soft_targets, reduction="batchmean")
    hard = F.cross_entropy(student_logits, target)
    return soft * (alpha * temperature ** 2) + hard * (1 - alpha)


def distill(student, teacher, train_loader, optimizer, epochs, temperature=2.0, alpha=0.5, scheduler=None,
            progress=True, description="distilling"):
    """Train ``student`` on :func:`distillation_loss` against the (frozen, eval-mode) ``teacher``.

    Both models map a batch of inputs to logits. ``scheduler.step()`` runs after every optimizer
    step. Returns the per-step losses.
    """
    teacher.eval()
    student.train()
    losses = []
    bar = tqdm(total=epochs * len(train_loader), desc=description, unit="step", disable=not progress, leave=False)
    for _ in range(epochs):
        for inputs, targets in train_loader:
            with no_grad():
                teacher_logits = teacher(inputs)
            optimizer.zero_grad()
            loss = distillation_loss(student(inputs), teacher_logits, targets, temperature, alpha)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            losses.append(loss.item())
            bar.update()
    bar.close()
    return np.array(losses)
