"""``minidl info``: versions of everything minidl runs on, and a self-check per backend.

The self-check runs one small computation with a known gradient on each device
(``cpu``, ``strict``, ``cuda``)::

    f(X) = sum(tanh(X) @ X^T) = sum_{i,j,k} tanh(X_ik) X_jk

    df/dX = (1 - tanh(X)^2) * (1 @ X) + 1 @ tanh(X)        (1 = a matrix of ones)

The first term comes from X inside tanh, the second from X^T. minidl's
``backward()`` must agree with this NumPy formula to float64 rounding.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import re
import shutil
import subprocess
import sys
from typing import NamedTuple

import numpy as np

import minidl
from minidl.core.machine import blas_libraries

BACKENDS = ("cpu", "strict", "cuda")


class Check(NamedTuple):
    """The result of one backend self-check: status is PASS, FAIL or SKIP."""

    device: str
    status: str
    detail: str


# ---------------------------------------------------------------- versions

def _package_version(name):
    """The installed version of a distribution, or None; never imports the package."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cupy_version():
    """CuPy's version from its distribution (cupy, cupy-cuda12x, ...), or None."""
    dist = _installed_cupy_wheel()
    version = dist and _package_version(dist)
    return f"{version} ({dist})" if version else None


def _blas_from_threadpoolctl():
    """'openblas 0.3.27, 2 threads (libscipy_openblas64_...)' or None without threadpoolctl."""
    if importlib.util.find_spec("threadpoolctl") is None:
        return None
    pools = blas_libraries()
    if not pools:
        return "none found by threadpoolctl"
    return "; ".join(
        f"{pool['internal_api']} {pool['version']}, {pool['num_threads']} threads"
        f" ({(pool['filepath'] or '?').rsplit('/', 1)[-1]})"
        for pool in pools)


def _blas_from_numpy():
    """The BLAS NumPy was built against, from ``numpy.show_config(mode="dicts")``."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} (NumPy build configuration)"
    except Exception:  # old NumPy without mode=, or an unexpected layout
        return "unknown"


def _cuda_versions():
    """CUDA runtime and driver versions and the GPU name, or why they are unavailable."""
    try:
        cupy = minidl.Device("cuda").xp  # backend.py is the only place that imports CuPy
    except Exception as error:
        return f"not available ({_one_line(error)})"
    runtime = cupy.cuda.runtime

    def dotted(version):
        return f"{version // 1000}.{version % 1000 // 10}"

    name = runtime.getDeviceProperties(0)["name"]
    name = name.decode() if isinstance(name, bytes) else name
    return (f"runtime {dotted(runtime.runtimeGetVersion())}, driver {dotted(runtime.driverGetVersion())}, "
            f"{runtime.getDeviceCount()} GPU(s), GPU 0: {name}")


#: the CuPy wheel built for each CUDA major version, and the minidl extra that installs it
CUPY_WHEELS = {11: ("cupy-cuda11x", 'pip install cupy-cuda11x'),
               12: ("cupy-cuda12x", 'pip install -e ".[gpu]"'),
               13: ("cupy-cuda13x", 'pip install -e ".[gpu-cuda13]"')}


def driver_cuda_version(smi_output):
    """The highest CUDA version the NVIDIA driver supports, as (major, minor), read from the header of
    ``nvidia-smi``'s output ("... CUDA Version: 13.0 ..."); None when it is not there."""
    match = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", smi_output or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def cupy_wheel_advice(cuda_version, installed):
    """Which CuPy wheel fits a driver supporting ``cuda_version`` (None: no NVIDIA driver found), given
    the installed CuPy distribution name (or None)."""
    if cuda_version is None:
        return "no NVIDIA driver found (nvidia-smi is not on PATH): minidl runs on the CPU"
    major, minor = cuda_version
    fitting = [(m, wheel) for m, wheel in sorted(CUPY_WHEELS.items()) if m <= major]
    if not fitting:
        return f"driver supports CUDA {major}.{minor}, older than any CuPy wheel: update the NVIDIA driver"
    wheel, command = fitting[-1][1]
    if installed == wheel:
        return f"driver supports CUDA {major}.{minor}; {wheel} fits and is installed"
    present = f"{installed} is installed but " if installed else ""
    return f"driver supports CUDA {major}.{minor}; {present}{wheel} fits it: {command}"


def _installed_cupy_wheel():
    """The name of the installed distribution that provides ``cupy`` (cupy-cuda12x, ...), or None."""
    return next(iter(importlib.metadata.packages_distributions().get("cupy", [])), None)


def _nvidia_smi_output():
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    try:
        return subprocess.run([executable], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def versions():
    """(label, value) pairs for the Python, platform, NumPy, BLAS, CuPy, CUDA and PyTorch lines."""
    return [
        ("minidl", minidl.__version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})"),
        ("Platform", platform.platform()),
        ("NumPy", np.__version__),
        ("BLAS", _blas_from_threadpoolctl() or _blas_from_numpy()),
        ("CuPy", _cupy_version() or "not installed"),
        ("CUDA", _cuda_versions()),
        ("GPU wheel", cupy_wheel_advice(driver_cuda_version(_nvidia_smi_output()), _installed_cupy_wheel())),
        ("PyTorch", _package_version("torch") or "not installed"),
        ("Kernels", _kernels()),
    ]


def _kernels():
    """'on, 16 registered, 2 threads' (``minidl.use_kernels`` and ``minidl.set_num_threads``)."""
    state = "on" if minidl.kernels_enabled() else "off (textbook ops only)"
    return (f"{state}, {len(minidl.core.dispatch.registered())} registered, "
            f"{minidl.get_num_threads()} thread(s)")


# ---------------------------------------------------------------- backend self-checks

def _one_line(error):
    """An exception as one line: 'TypeName: message'."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def expected_gradient(x):
    """d/dX of sum(tanh(X) @ X^T), in plain NumPy (see the module docstring)."""
    t = np.tanh(x)
    ones = np.ones((x.shape[0], x.shape[0]))
    return (1 - t ** 2) * (ones @ x) + ones @ t


def check_backend(device, seed=0):
    """Run the tanh/matmul/sum gradient check on ``device``; return a :class:`Check`."""
    try:
        minidl.Device(device).xp  # a device that is not available is skipped, not failed
    except Exception as error:
        return Check(device, "SKIP", _one_line(error))
    x_np = np.random.default_rng(seed).standard_normal((4, 3))
    try:
        x = minidl.tensor(x_np, dtype=minidl.float64).to(device).requires_grad_()
        y = (x.tanh() @ x.T).sum()
        y.backward()
        grad = x.grad.to("cpu").numpy()
        value = y.item()
    except Exception as error:
        return Check(device, "FAIL", _one_line(error))
    expected_value = (np.tanh(x_np) @ x_np.T).sum()
    expected_grad = expected_gradient(x_np)
    error = np.abs(grad - expected_grad).max()
    if not np.isclose(value, expected_value, rtol=1e-10, atol=1e-12):
        return Check(device, "FAIL", f"forward value {value!r} != NumPy {expected_value!r}")
    if not np.allclose(grad, expected_grad, rtol=1e-10, atol=1e-12):
        return Check(device, "FAIL", f"gradient differs from NumPy (max error {error:.3g})")
    return Check(device, "PASS", f"sum(tanh(x) @ x.T) and its gradient match NumPy (max error {error:.1g})")


def backend_checks():
    """One :class:`Check` per backend, in the order cpu, strict, cuda."""
    return [check_backend(device) for device in BACKENDS]


def report(checks=None):
    """The text ``minidl info`` prints: version lines, then one PASS/FAIL/SKIP line per backend."""
    if checks is None:
        checks = backend_checks()
    lines = [f"{label:<10} {value}" for label, value in versions()]
    lines.append("")
    lines += [f"{check.status:<4}  {check.device:<6}  {check.detail}" for check in checks]
    return "\n".join(lines)


def main():
    """Print the report; 0 when no backend FAILed, else 1."""
    checks = backend_checks()
    print(report(checks))
    return 1 if any(check.status == "FAIL" for check in checks) else 0
