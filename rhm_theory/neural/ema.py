"""Exponential-moving-average (EMA) teachers and their decay schedule."""

from __future__ import annotations

import copy
from typing import TypeVar

import torch
from torch import nn

__all__ = ["ema_decay", "ema_update", "make_teacher"]

M = TypeVar("M", bound=nn.Module)


def ema_decay(step: int, tau0: float, tau_end: float, ramp_steps: int) -> float:
    """EMA decay at ``step``: rises linearly from ``tau0`` to ``tau_end`` over ``ramp_steps``.

    Constant at ``tau_end`` afterwards (data2vec's schedule).

    >>> ema_decay(0, 0.9, 0.99, 10), round(ema_decay(5, 0.9, 0.99, 10), 6)
    (0.9, 0.945)
    >>> ema_decay(50, 0.9, 0.99, 10)
    0.99
    """
    if not (0.0 <= tau0 <= 1.0 and 0.0 <= tau_end <= 1.0):
        raise ValueError(f"EMA decays must lie in [0, 1], got tau0={tau0}, tau_end={tau_end}")
    if ramp_steps <= 0 or step >= ramp_steps:
        return float(tau_end)
    return float(tau0 + (tau_end - tau0) * max(step, 0) / ramp_steps)


def make_teacher(student: M) -> M:
    """A frozen copy of ``student``: no parameter requires gradients, eval mode."""
    teacher = copy.deepcopy(student)
    teacher.requires_grad_(False)
    teacher.eval()
    return teacher


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, tau: float) -> None:
    """In place: ``teacher = tau * teacher + (1 - tau) * student`` for every parameter.

    Floating-point buffers follow the same rule; other buffers are copied.

    Parameters
    ----------
    teacher, student : nn.Module
        Modules of identical structure.
    tau : float
        Decay in ``[0, 1]``; ``tau = 1`` freezes the teacher, ``tau = 0`` copies the student.
    """
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"tau must lie in [0, 1], got {tau}")
    t_params = list(teacher.parameters())
    s_params = list(student.parameters())
    if len(t_params) != len(s_params):
        raise ValueError("teacher and student must have the same parameters")
    for t, s in zip(t_params, s_params, strict=True):
        t.mul_(tau).add_(s.detach(), alpha=1.0 - tau)
    for tb, sb in zip(teacher.buffers(), student.buffers(), strict=True):
        if tb.dtype.is_floating_point:
            tb.mul_(tau).add_(sb, alpha=1.0 - tau)
        else:
            tb.copy_(sb)
