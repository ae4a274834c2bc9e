"""Stable-token peg model: scenarios, Monte Carlo engine (Numba, NumPy, PyTorch, Dask, CUDA), stress report.

Modules
-------
- :mod:`riskcore.peg.model` -- constants of SPEC §1 and the vectorised NumPy reference step.
- :mod:`riskcore.peg.kernels` -- the Numba path kernel, its RNG, and the single-source model step.
- :mod:`riskcore.peg.cuda_backend` -- the fused CUDA kernel (same step), with :mod:`riskcore.peg.philox`.
- :mod:`riskcore.peg.scenarios` -- :class:`~riskcore.peg.scenarios.Scenario` and the presets.
- :mod:`riskcore.peg.montecarlo` -- :func:`~riskcore.peg.montecarlo.simulate` and
  :class:`~riskcore.peg.montecarlo.SimulationResult`.
- :mod:`riskcore.peg.report` -- :func:`~riskcore.peg.report.stress_report`.
- :mod:`riskcore.peg.calibration` -- maximum-likelihood calibration of the model to a price series.

Nothing is imported here, so ``import riskcore.peg.<module>`` only pays for what it uses.
"""
