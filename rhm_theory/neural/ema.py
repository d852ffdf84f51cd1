"""Exponential-moving-average (EMA) teachers, their decay schedule and the fused update."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import torch
from torch import nn

from rhm_theory.validation import check_float, check_int

__all__ = ["EMASchedule", "ema_decay", "ema_update", "make_teacher", "update_teacher"]

M = TypeVar("M", bound=nn.Module)


def ema_decay(step: int, tau0: float, tau_end: float, ramp_steps: int) -> float:
    """EMA decay at ``step``: rises linearly from ``tau0`` to ``tau_end`` over ``ramp_steps``.

    Constant at ``tau_end`` afterwards (data2vec's schedule).

    >>> ema_decay(0, 0.9, 0.99, 10), round(ema_decay(5, 0.9, 0.99, 10), 6)
    (0.9, 0.945)
    >>> ema_decay(50, 0.9, 0.99, 10)
    0.99
    """
    check_float("tau0", tau0, minimum=0.0, maximum=1.0)
    check_float("tau_end", tau_end, minimum=0.0, maximum=1.0)
    if ramp_steps <= 0 or step >= ramp_steps:
        return float(tau_end)
    return float(tau0 + (tau_end - tau0) * max(step, 0) / ramp_steps)


@dataclass(frozen=True)
class EMASchedule:
    """EMA decay schedule, absolute or relative to the run length.

    data2vec 1.0 (text) raises the decay linearly from 0.999 to 0.9999 over 300,000 of
    its 1M updates (fairseq's released config), constant after: EMA *horizons*
    ``1 / (1 - tau)`` of 1,000 and 10,000 steps. The models of this package use such
    absolute schedules (``tau0`` / ``tau_end`` / ``tau_steps``), which are the same for
    every run length, so runs of one cell that differ in ``P`` (and steps) share their
    teacher's schedule. A schedule relative to the run length (horizons given as
    fractions of the run: ``start_horizon``, ``end_horizon``, ``ramp``) is the option
    used when no absolute value is given; it ties the teacher to the run length.

    Parameters
    ----------
    start_horizon, end_horizon : float
        EMA horizons at the start and the end of the ramp, as fractions of the run
        (a horizon below one step gives ``tau = 0``: the teacher copies the student).
    ramp : float
        Fraction of the run over which the decay rises.
    tau0, tau_end : float or None
        Absolute decays (override the horizons).
    tau_steps : int or None
        Absolute ramp length in steps (overrides ``ramp``).

    Examples
    --------
    >>> s = EMASchedule()
    >>> s.decays(1_000_000)  # horizons of 0.1% and 1% of the run, ramp 10%
    (0.999, 0.9999, 100000)
    >>> s.decays(2000)       # horizons of 2 and 20 steps
    (0.5, 0.95, 200)
    """

    start_horizon: float = 0.001
    end_horizon: float = 0.01
    ramp: float = 0.1
    tau0: float | None = None
    tau_end: float | None = None
    tau_steps: int | None = None

    def __post_init__(self) -> None:
        check_float("start_horizon", self.start_horizon, minimum=0.0, include_minimum=False)
        check_float("end_horizon", self.end_horizon, minimum=0.0, include_minimum=False)
        check_float("ramp", self.ramp, minimum=0.0, maximum=1.0)
        for name in ("tau0", "tau_end"):
            if getattr(self, name) is not None:
                check_float(name, getattr(self, name), minimum=0.0, maximum=1.0)
        if self.tau_steps is not None:
            check_int("tau_steps", self.tau_steps, minimum=0)

    @staticmethod
    def _tau(horizon_steps: float) -> float:
        return 0.0 if horizon_steps <= 1.0 else round(1.0 - 1.0 / horizon_steps, 12)

    def decays(self, total_steps: int) -> tuple[float, float, int]:
        """``(tau0, tau_end, ramp_steps)`` for a run of ``total_steps`` steps."""
        total = check_int("total_steps", total_steps, minimum=1)
        tau0 = self.tau0 if self.tau0 is not None else self._tau(self.start_horizon * total)
        tau_end = (
            self.tau_end if self.tau_end is not None else self._tau(self.end_horizon * total)
        )
        ramp = self.tau_steps if self.tau_steps is not None else round(self.ramp * total)
        return float(tau0), float(tau_end), int(ramp)

    def decay(self, step: int, total_steps: int) -> float:
        """Decay used after optimisation step ``step`` of a ``total_steps`` run."""
        return ema_decay(step, *self.decays(total_steps))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return asdict(self)


def make_teacher(student: M) -> M:
    """A frozen copy of ``student``: no parameter requires gradients, eval mode."""
    teacher = copy.deepcopy(student)
    teacher.requires_grad_(False)
    teacher.eval()
    return teacher


def _float_pairs(
    teacher: Iterable[torch.Tensor], student: Iterable[torch.Tensor]
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[tuple[torch.Tensor, torch.Tensor]]]:
    t_float: list[torch.Tensor] = []
    s_float: list[torch.Tensor] = []
    other: list[tuple[torch.Tensor, torch.Tensor]] = []
    for t, s in zip(teacher, student, strict=True):
        if t.dtype.is_floating_point:
            t_float.append(t)
            s_float.append(s.detach())
        else:
            other.append((t, s))
    return t_float, s_float, other


@torch.no_grad()
def ema_update(
    teacher: nn.Module, student: nn.Module, tau: float, *, copy: Sequence[str] = ()
) -> None:
    """In place: ``teacher = tau * teacher + (1 - tau) * student`` for every parameter.

    One fused ``torch._foreach_lerp_`` over all tensors (no Python loop of small kernels):
    ``lerp(t, s, 1 - tau) = t + (1 - tau)(s - t)``. Floating-point buffers follow the same
    rule; other buffers are copied. Parameters whose name starts with one of ``copy`` are
    copied from the student instead of averaged (data2vec averages the encoder blocks only
    and shares the embeddings with the student).

    Parameters
    ----------
    teacher, student : nn.Module
        Modules of identical structure.
    tau : float
        Decay in ``[0, 1]``; ``tau = 1`` freezes the teacher, ``tau = 0`` copies the student.
    copy : sequence of str
        Name prefixes of parameters and buffers copied rather than averaged.
    """
    check_float("tau", tau, minimum=0.0, maximum=1.0)
    t_named = list(teacher.named_parameters()) + list(teacher.named_buffers())
    s_named = list(student.named_parameters()) + list(student.named_buffers())
    if [n for n, _ in t_named] != [n for n, _ in s_named]:
        raise ValueError("teacher and student must have the same parameters and buffers")
    copied = [i for i, (n, _) in enumerate(t_named) if any(n.startswith(c) for c in copy)]
    averaged = sorted(set(range(len(t_named))) - set(copied))
    t_float, s_float, other = _float_pairs(
        (t_named[i][1] for i in averaged), (s_named[i][1] for i in averaged)
    )
    if t_float:
        torch._foreach_lerp_(t_float, s_float, 1.0 - tau)
    for t, s in other:
        t.copy_(s)
    for i in copied:
        t_named[i][1].copy_(s_named[i][1])


def update_teacher(
    teacher: nn.Module,
    student: nn.Module,
    schedule: EMASchedule,
    step: int,
    total_steps: int,
    *,
    copy: Sequence[str] = (),
) -> float:
    """EMA step of ``teacher`` with the scheduled decay; returns the decay used.

    The one teacher update of every model of :mod:`rhm_theory.neural`.
    """
    tau = schedule.decay(step, total_steps)
    ema_update(teacher, student, tau, copy=copy)
    return tau
