"""The floating-point model a proof states, measured on the machine the tests run on: exp, erf and rsqrt within
TRANSCENDENTAL_ULPS units in the last place, and GELU within the local bound the enclosure charges it, in float32
(against float64) and in float64 (against mpmath at 40 digits). A machine that fails these is outside the model:
its certificates would not hold there."""

import math

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from numerate.verify.enclosure import PRECISIONS, TRANSCENDENTAL_ULPS, Enclosure
from numerate.verify.certificate import environment

mpmath.mp.dps = 40


def _ulp(x: np.ndarray, dtype) -> np.ndarray:
    """The spacing of `dtype` floats at |x| (the ulp of the exact value), never below the smallest normal's."""
    info = np.finfo(dtype)
    e = np.floor(np.log2(np.maximum(np.abs(x), info.tiny)))
    return np.exp2(e - (info.nmant))


def _points(lo, hi, n, seed=0):
    g = np.random.default_rng(seed)
    return np.concatenate([np.linspace(lo, hi, n), g.uniform(lo, hi, n)])


def test_float32_transcendentals_within_the_stated_ulps():
    cases = {
        "exp": (_points(-87, 88, 500_000), torch.exp, np.exp),
        "erf": (_points(-6, 6, 500_000), torch.erf, np.vectorize(math.erf)),
        "rsqrt": (np.exp(_points(-60, 60, 500_000)), torch.rsqrt, lambda x: 1 / np.sqrt(x)),
    }
    for name, (x, f32, exact) in cases.items():
        x = x.astype(np.float32).astype(np.float64)  # inputs that are float32 numbers
        got = f32(torch.tensor(x, dtype=torch.float32)).double().numpy()
        want = exact(x)
        ulps = np.abs(got - want) / _ulp(want, np.float32)
        assert ulps.max() <= TRANSCENDENTAL_ULPS, (name, float(ulps.max()), float(x[ulps.argmax()]))


@pytest.mark.parametrize("precision", sorted(PRECISIONS))
def test_gelu_within_the_enclosure_local_bound(precision):
    enc = Enclosure(precision)
    dtype = torch.float64 if precision == "float64" else torch.float32
    x = _points(-12, 12, 1500 if precision == "float64" else 300_000)
    x = torch.tensor(x, dtype=dtype).double().numpy()
    got = F.gelu(torch.tensor(x, dtype=dtype)).double().numpy()
    if precision == "float64":
        want = np.array([float(mpmath.mpf(v) * (1 + mpmath.erf(mpmath.mpf(v) / mpmath.sqrt(2))) / 2) for v in x])
    else:
        want = F.gelu(torch.tensor(x, dtype=torch.float64)).numpy()
    bound = (enc.ULP_T + 6 * enc.U) * np.abs(x) + enc.tiny
    assert (np.abs(got - want) <= bound).all()


def test_float64_transcendentals_within_the_stated_ulps():
    x = _points(-700, 700, 1500)
    got = torch.exp(torch.tensor(x, dtype=torch.float64)).numpy()
    want = np.array([float(mpmath.exp(mpmath.mpf(v))) for v in x])
    assert (np.abs(got - want) / _ulp(want, np.float64)).max() <= TRANSCENDENTAL_ULPS
    x = _points(-6, 6, 1500)
    got = torch.erf(torch.tensor(x, dtype=torch.float64)).numpy()
    want = np.array([float(mpmath.erf(mpmath.mpf(v))) for v in x])
    assert (np.abs(got - want) / _ulp(want, np.float64)).max() <= TRANSCENDENTAL_ULPS
    x = np.exp(_points(-600, 600, 1500))
    got = torch.rsqrt(torch.tensor(x, dtype=torch.float64)).numpy()
    want = np.array([float(1 / mpmath.sqrt(mpmath.mpf(v))) for v in x])
    assert (np.abs(got - want) / _ulp(want, np.float64)).max() <= TRANSCENDENTAL_ULPS


def test_certificates_record_the_arithmetic():
    env = environment()
    assert env["blas"] and isinstance(env["float64_subnormals_kept"], bool) and env["torch_threads"] >= 1
