"""PyTorch backend of the peg Monte Carlo: CUDA when available, else CPU.

Vectorised over paths (float64, or float32 on request), looping over steps, with the statistics streamed as
in the Numba kernel: per path the running minimum, steps below 0.98, first breach
and first recovery; per step the sums of the price and its square; full paths only
for the first ``n_record`` paths. Paths are processed in chunks of at most
:data:`CHUNK` so memory stays bounded on any device.

Random numbers come from a :class:`torch.Generator` seeded with the run seed on the
chosen device; the numbers differ from the Numba kernel's (and between CPU and CUDA),
the distribution is the same. Jumps: one uniform per path and step against
``1 - exp(-lambda dt)``, sizes ``N(mu, sigma)``; at most one jump per step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from riskcore.errors import InputError
from riskcore.peg.model import DEPEG_LEVEL, PRICE_FLOOR, PathStats, StepCoefficients, drift

__all__ = ["simulate_torch", "default_device", "CHUNK"]

#: paths per chunk (about 100 MB of float64 work tensors)
CHUNK = 1_000_000


def default_device() -> str:
    """``"cuda"`` when PyTorch sees a GPU, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def simulate_torch(c: StepCoefficients, n_paths: int, p0: float, seed: int, n_record: int,
                   progress: Callable[[float], None] | None = None, device: str | None = None,
                   dtype: str = "float64") -> PathStats:
    """Simulate ``n_paths`` paths on ``device`` (default :func:`default_device`).

    ``dtype`` (``"float64"`` or ``"float32"``) is the precision of the prices and random
    numbers; the per-step sums are accumulated in float64 and the outputs are float64.
    """
    import torch

    dev_name = device or default_device()
    try:
        dev = torch.device(dev_name)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("CUDA is not available")
    except RuntimeError as exc:
        raise InputError("device", f"unusable torch device: {exc}", value=dev_name) from None
    gen = torch.Generator(device=dev)
    gen.manual_seed(int(seed) % (2**63))
    n_steps = c.n_steps
    if dtype not in ("float64", "float32"):
        raise InputError("dtype", "must be float64 or float32", value=dtype)
    fdt = torch.float64 if dtype == "float64" else torch.float32
    decay = torch.as_tensor(c.decay, dtype=fdt, device=dev)
    support = torch.as_tensor(c.support, dtype=fdt, device=dev)
    vol = torch.as_tensor(c.vol_sqrt_dt, dtype=fdt, device=dev)
    shock = c.shock_factor

    terminal = np.empty(n_paths)
    min_price = np.empty(n_paths)
    steps_below = np.empty(n_paths, np.int32)
    first_breach = np.empty(n_paths, np.int32)
    recovery = np.empty(n_paths, np.int32)
    step_sum = np.zeros(n_steps + 1)
    step_sumsq = np.zeros(n_steps + 1)
    recorded = np.empty((n_record, n_steps + 1))
    chunks = [(s, min(s + CHUNK, n_paths)) for s in range(0, n_paths, CHUNK)]
    with torch.no_grad():
        for ci, (start, stop) in enumerate(chunks):
            m = stop - start
            rec = max(0, min(n_record - start, m))
            p = torch.full((m,), float(p0), dtype=fdt, device=dev)
            minp = p.clone()
            below_n = torch.zeros(m, dtype=torch.int32, device=dev)
            breach = torch.full((m,), -1, dtype=torch.int32, device=dev)
            recov = torch.full((m,), -1, dtype=torch.int32, device=dev)
            sums = torch.zeros((2, n_steps + 1), dtype=torch.float64, device=dev)
            rec_t = torch.empty((rec, n_steps + 1), dtype=fdt, device=dev)
            p64 = p.double()
            sums[0, 0], sums[1, 0] = p64.sum(), (p64 * p64).sum()
            rec_t[:, 0] = p[:rec]
            for t in range(n_steps):
                z = torch.randn(m, generator=gen, dtype=fdt, device=dev)
                pn = p + drift(p, c.alpha, decay[t], support[t], where=torch.where) * c.dt + vol[t] * z
                if c.p_jump > 0.0:
                    hit = torch.rand(m, generator=gen, dtype=fdt, device=dev) < c.p_jump
                    idx = torch.nonzero(hit).squeeze(1)
                    if idx.numel():
                        zj = torch.randn(idx.numel(), generator=gen, dtype=fdt, device=dev)
                        jump = torch.zeros(m, dtype=fdt, device=dev)
                        jump[idx] = c.jump_mu + c.jump_sigma * zj
                        pn = pn + jump
                pn = torch.clamp_min(pn, PRICE_FLOOR)
                if shock[t] != 1.0:
                    pn = torch.clamp_min(pn * float(shock[t]), PRICE_FLOOR)
                p = pn
                step = t + 1
                torch.minimum(minp, p, out=minp)
                below = p < DEPEG_LEVEL
                below_n += below.to(torch.int32)
                breach = torch.where(below & (breach < 0), step, breach)
                recov = torch.where((~below) & (breach >= 0) & (recov < 0), step, recov)
                p64 = p.double() if p.dtype != torch.float64 else p
                sums[0, step] = p64.sum()
                sums[1, step] = (p64 * p64).sum()
                if rec:
                    rec_t[:, step] = p[:rec]
            terminal[start:stop] = p.double().cpu().numpy()
            min_price[start:stop] = minp.double().cpu().numpy()
            steps_below[start:stop] = below_n.cpu().numpy()
            first_breach[start:stop] = breach.cpu().numpy()
            recovery[start:stop] = recov.cpu().numpy()
            s = sums.cpu().numpy()
            step_sum += s[0]
            step_sumsq += s[1]
            recorded[start:start + rec] = rec_t.double().cpu().numpy()
            if progress is not None:
                progress((ci + 1) / len(chunks))
    return PathStats(terminal, min_price, steps_below, first_breach, recovery, step_sum, step_sumsq, recorded)
