"""A rigorous enclosure of every evaluation of a field in the certified precision (float64, as `solve` runs a
certified model, or float32): each token state as a float64 midpoint and a radius.

`solve` computes a proven query with other kernels (the windowed or the parallel decoder, SDPA on another
device), other batch shapes and other summation orders than any one pass the proof could make. So the proof
does not trust one evaluation: it carries every token state of every case as a *ball*, a float64 midpoint m and
a radius r >= 0, elementwise, with the invariant

    every evaluation of the model in the certified precision that meets the floating-point model below, on this
    field, computes a value within [m - r, m + r] at this point of the forward pass.

Each operation maps balls to a ball by three terms (docs/verification.md, "Floating point", has the derivations):

1. how far the *exact* operation can move over the input ball (a Lipschitz bound on that ball: |W| r for a
   linear map, the ratio bound exp(r_i + max r) for softmax weights, a norm argument for layer norm);
2. how far a float32 evaluation of the operation, at any input in the ball, can land from its exact value;
3. how far the float64 midpoint itself is from the exact value at the midpoint (the same rules, u = 2^-53).

No term is first order, none is sampled, and every bound holds for any summation order and blocking, so the
enclosure covers every decoder, batch shape and device that meets the model. A case is certified when the
lower end of the right token's lead over every other token is above zero: then every such evaluation writes
the right token. Radii are computed in float64 and inflated by INFLATE per operation to cover their own rounding
(sums of non-negative terms, relative error below 2^-40 here).

The floating-point model (ROUNDING_MODEL, recorded in every certificate):

- each operation in the certified precision is IEEE round-to-nearest, or a fused multiply-add (unit roundoff
  u = 2^-53 in float64, 2^-24 in float32); no TF32,
  no half precision, no flush of results to zero that IEEE would keep (gradual underflow: subnormal results of
  products are covered by an absolute term below);
- sums and dot products of n terms, in any order and blocking: within gamma(n) = n u / (1 - n u) times the sum
  of the absolute terms (Higham, Accuracy and Stability of Numerical Algorithms, 3.1); terms that are exactly
  zero (masked keys, exp(-inf) = 0) add no rounding;
- exp, erf and the reciprocal square root are within TRANSCENDENTAL_ULPS units in the last place (tests measure
  them on the machine they run on);
- layer norm: the mean and variance by any one-pass, two-pass or Welford scheme, and the result as
  (x - mean) * rstd * g + b or as x * (rstd * g) + (b - mean * rstd * g);
- softmax: max-shifted, either whole or online over blocks of keys (flash kernels), each rescaling one more
  exp and product per term.
"""

from __future__ import annotations

import math

import torch

U32 = 2.0**-24
U64 = 2.0**-53
TRANSCENDENTAL_ULPS = 4
INFLATE = 1.0 + 2.0**-30  # each radius, for the rounding of its own float64 computation
GELU_LIPSCHITZ = 1.1290  # max |d/dx x Phi(x)| = Phi(sqrt 2) + sqrt 2 phi(sqrt 2) = 1.12899...
PRECISIONS = {"float64": (U64, 2.0**-1022), "float32": (U32, 2.0**-126)}  # unit roundoff, smallest normal

ROUNDING_MODEL = {
    "arithmetic": "IEEE round-to-nearest or fused multiply-add in the certified precision; no TF32, no half precision",
    "reductions": "any order and blocking; gamma(n) = n u / (1 - n u) per sum of n non-zero terms",
    "transcendental_ulps": TRANSCENDENTAL_ULPS,
    "layer_norm": "mean and variance by a two-pass, Welford or cascaded scheme (error at most gamma(2n+8) (var + "
    "sigma rms(x))); (x - mean) * rstd * g + b or x * (rstd * g) + (b - mean * rstd * g)",
    "softmax": "max-shifted, whole or online over blocks of keys",
    "midpoint": "float64; its own rounding bounded by the same rules with u = 2^-53",
    "analysis": "ball arithmetic (float64 midpoint, rigorous radius shared by the cases of a batch) through every "
    "operation of every case; no first-order term, no sampled case",
}


class Ball:
    """Midpoints (N, ...) in float64 and radii, either one per row (N, ...) or one radius (1, ...) that holds for
    every row: each row's admissible values lie within mid +- rad. `top` bounds |mid|, per row or over the rows,
    as the radius is."""

    __slots__ = ("mid", "rad", "top")

    def __init__(self, mid: torch.Tensor, rad: torch.Tensor, top: torch.Tensor | None = None):
        self.mid, self.rad = mid, rad
        if top is None:
            top = mid.abs() if not self.shared else mid.abs().amax(0, keepdim=True)
        self.top = top

    @property
    def shared(self) -> bool:
        return self.rad.shape[0] != self.mid.shape[0]

    def __getitem__(self, rows):
        if self.shared:
            return Ball(self.mid[rows], self.rad, self.top)  # a subset of rows: the same bounds still hold
        return Ball(self.mid[rows], self.rad[rows], self.top[rows])

    def __len__(self):
        return len(self.mid)

    @property
    def mag(self) -> torch.Tensor:
        """A bound on |value| over the ball (per row, or over every row when the radius is shared)."""
        return self.top + self.rad


def _rows(t: torch.Tensor, shared: bool) -> torch.Tensor:
    """Per-row bounds t (N, ...), or their largest over the rows (1, ...) when the radius is shared."""
    return t.amax(0, keepdim=True) if shared else t


class Enclosure:
    """Ball arithmetic, operation by operation as `Transformer.forward` computes (the ops of states.propagate).

    `precision` is the evaluation the enclosure covers (float64 by default, as `solve` runs a certified model)."""

    def __init__(self, precision: str = "float64"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, got {precision!r}")
        unit, smallest = PRECISIONS[precision]
        self.precision = precision
        self.U = unit + U64  # one rounding of the evaluation and the float64 rounding of the midpoint
        self.ULP_T = TRANSCENDENTAL_ULPS * self.U
        self.tiny = 16 * smallest  # per result, for gradual underflow
        self._weights: dict[int, tuple] = {}

    def gamma(self, n):
        return n * self.U / (1 - n * self.U)

    def up(self, r: torch.Tensor) -> torch.Tensor:
        return r * INFLATE + self.tiny

    def _w(self, lin):
        key = id(lin.weight)
        if key not in self._weights:
            w = lin.weight.detach().double()
            b = None if lin.bias is None else lin.bias.detach().double()
            self._weights[key] = (w, w.abs(), b, None if b is None else b.abs())
        return self._weights[key]

    # ---------------------------------------------------------------- the ops of states.propagate

    def embed(self, model, ids, extra):
        e = model.wte.weight.detach().double()
        if extra is not None:
            e = e + extra.detach().double()
            return Ball(e, self.up(self.U * e.abs()))[ids]
        return Ball(e, torch.zeros_like(e))[ids]

    def step(self, t: int, depth: int) -> None:
        """Radii are kept per row while distinct states are few; the last step (the query's, one state per case)
        shares one radius over the rows of a batch, so its cost is that of the float64 midpoints alone."""
        self.share = t == depth

    share = False

    def take(self, x: Ball, rows):
        if self.share and not x.shared:
            return Ball(x.mid[rows], x.rad.amax(0, keepdim=True))
        return x[rows]

    def stack(self, xs: list[Ball]) -> Ball:
        return Ball(
            torch.stack([x.mid for x in xs], dim=1),
            torch.stack([x.rad for x in xs], dim=1),
            torch.stack([x.top for x in xs], dim=1),
        )

    def split(self, x: Ball, n: int):
        return [Ball(m, r, t) for m, r, t in zip(x.mid.split(n, -1), x.rad.split(n, -1), x.top.split(n, -1))]

    def add(self, a: Ball, b: Ball) -> Ball:
        y = a.mid + b.mid
        r = a.rad + b.rad
        out = Ball(y, r)
        out.rad = self.up(r + self.U * (out.top + r))
        return out

    def linear(self, x: Ball, lin) -> Ball:
        w, wa, b, ba = self._w(lin)
        y = x.mid @ w.T
        both = torch.cat([x.rad, x.mag]) @ wa.T  # the moved part and the magnitudes in one product
        moved, mag = both[: len(x.rad)], both[len(x.rad) :]
        if b is not None:
            y = y + b
            mag = mag + ba
        return Ball(y, self.up(moved + self.gamma(w.shape[1] + 1) * mag))

    def gelu(self, x: Ball) -> Ball:
        out = Ball(torch.nn.functional.gelu(x.mid), x.rad)
        out.rad = self.up(GELU_LIPSCHITZ * x.rad + (self.ULP_T + 6 * self.U) * x.mag)
        return out

    def mlp(self, x: Ball, mlp) -> Ball:
        return self.linear(self.gelu(self.linear(x, mlp[0])), mlp[2])

    def layer_norm(self, x: Ball, ln) -> Ball:
        y, rad, _ = self.layer_norm_parts(x, ln)
        return Ball(y, self.up(rad))

    def layer_norm_parts(self, x: Ball, ln):
        """(midpoint, radius before `up`, parts): `parts` splits the radius into the exact layer norm's move over
        the ball and one evaluation's error at a point of it (mean-value forms need them apart)."""
        U, gamma = self.U, self.gamma
        n = x.mid.shape[-1]
        g, beta = ln.weight.detach().double(), ln.bias.detach().double()
        ga, ba = g.abs(), beta.abs()
        eps = ln.eps
        m, r = x.mid, x.rad
        mu = m.mean(-1, keepdim=True)
        c = m - mu
        var = (c * c).mean(-1, keepdim=True)  # (N, 1)
        y = c / var.add(eps).sqrt() * g + beta
        sh = x.shared
        # The bounds below are per row; with a shared radius, the largest over the rows. Only `moved` carries
        # the input's radius; the rest are rounding terms (a few u), bounded more loosely where that is cheaper.
        A = ((m.abs() + r).square()).mean(-1, keepdim=True) if not sh else (x.mag * x.mag).mean(-1, keepdim=True)
        M1 = x.mag.mean(-1, keepdim=True)  # mean |x| over the ball
        # the exact layer norm at each midpoint: its centred values and sigma from the float64 ones
        e_c64 = gamma(n + 2) * M1
        e_var64 = 4 * gamma(2 * n + 8) * A
        sigma0 = ((var - e_var64).clamp(min=0) + eps).sqrt() * (1 - 4 * U64)  # (N, 1)
        # 1. the exact layer norm over the ball: c moves by rho, sigma (a norm of c) by at most rms(rho)
        rho = r + r.mean(-1, keepdim=True)
        d_sigma = (rho * rho).mean(-1, keepdim=True).sqrt() * (1 + 4 * U64)
        sigma_lo = (sigma0 - d_sigma).clamp(min=math.sqrt(eps) * (1 - 4 * U64))  # (N, 1)
        w1 = 1 / sigma_lo
        w2 = d_sigma / (sigma0 * sigma_lo)
        ca = c.abs()
        moved = _rows(ca * w2, sh) + rho * _rows(w1, sh) + e_c64 * _rows(w2, sh)
        cb = _rows(ca, sh) + e_c64 + rho  # |c| anywhere in the ball
        zb = cb * _rows(w1, sh)  # |z| anywhere in the ball
        s_lo = _rows(sigma_lo, sh) if not sh else sigma_lo.amin()
        # 2. an evaluation at any point of the ball (and 3. the midpoint's own, by U)
        X = x.mag
        e_mu = gamma(n + 1) * M1
        mu_b = _rows(mu.abs(), sh) + r.mean(-1, keepdim=True) + e_mu
        e_c = e_mu + 4 * U * (X + mu_b + e_mu)
        var_hi = (cb * cb).mean(-1, keepdim=True)
        e_var = gamma(2 * n + 8) * (var_hi + (var_hi * A).sqrt()) + 2 * e_mu * A.sqrt() + e_mu * e_mu
        t = (e_var + U * (A + e_var + eps)) / (s_lo * s_lo)
        rel_s = (1 + t) * (1 + self.ULP_T + 2 * U) - 1
        rel_s = torch.where(t <= 0.5, rel_s, torch.full_like(rel_s, math.inf))
        e = (e_c * (1 + rel_s) / s_lo + zb * rel_s) * (1 + U) + U * zb
        rad = ga * (moved + e) + 2 * U * (1 + U) * (ga * (zb + e) + ba)
        parts = dict(
            moved=moved, e=e, zb=zb, ga=ga, ba=ba, z=c / var.add(eps).sqrt(), sigma0=sigma0, sigma_lo=sigma_lo,
            w2=w2, e_var64=e_var64, a=1 / var.add(eps).sqrt(),
        )  # fmt: skip
        return y, rad, parts

    def attention(self, q: Ball, ks: Ball, vs: Ball, bias: torch.Tensor, n_head: int) -> Ball:
        """q (N, C), ks and vs (N, K, C), bias (H, K) finite: one query over its K visible keys."""
        U, gamma = self.U, self.gamma
        n, K, C = ks.mid.shape
        H, D = n_head, C // n_head
        scale = 1 / math.sqrt(D)
        qm = q.mid.view(n, H, 1, D)
        km = ks.mid.view(n, K, H, D).transpose(1, 2)  # (n, H, K, D)
        vm = vs.mid.view(n, K, H, D).transpose(1, 2)
        b = bias.double()
        s = (qm @ km.transpose(-1, -2))[:, :, 0] * scale + b  # (n, H, K)
        p = torch.softmax(s, dim=-1)
        y = (p[:, :, None] @ vm)[:, :, 0].reshape(n, C)
        # radii: (N|1, H, K) for scores and weights, (N|1, H, K, D) for keys and values
        sh = ks.shared
        qt, qr = q.top.view(-1, H, 1, D)[:, :, 0], q.rad.view(-1, H, 1, D)[:, :, 0]
        kt, kr = ks.top.view(-1, K, H, D).transpose(1, 2), ks.rad.view(-1, K, H, D).transpose(1, 2)
        vt, vr = vs.top.view(-1, K, H, D).transpose(1, 2), vs.rad.view(-1, K, H, D).transpose(1, 2)
        moved = (qt[:, :, None] * kr + qr[:, :, None] * (kt + kr)).sum(-1) * scale
        mag = ((qt + qr)[:, :, None] * (kt + kr)).sum(-1) * scale
        rs = self.up(moved + gamma(D + 4) * mag + 2 * U * (mag + b.abs()))
        R = rs.amax(-1, keepdim=True)
        spread = _rows((s.amax(-1, keepdim=True) - s.amin(-1, keepdim=True)), sh) + 2 * R
        rel = 2 * self.ULP_T + 2 * K * (self.ULP_T + 2 * U) + 8 * U + gamma(K) + 4 * U * spread
        grow = rs + R + rel  # |log(computed weight / midpoint weight)| <= grow
        p_top = _rows(p, sh)
        dp = p_top * torch.expm1(grow)  # how far a computed weight can be from the midpoint's
        vmag = vt + vr
        ry = (dp[..., None] * vmag).sum(2) + (p_top[..., None] * vr).sum(2)
        ry = ry + gamma(K + 1) * ((p_top + dp)[..., None] * vmag).sum(2)  # (N|1, H, D)
        return Ball(y, self.up(ry).reshape(-1, C))

    # ---------------------------------------------------------------- the answer

    def lead_bounds(self, model, h: Ball, truth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(float64 leads (N, V), their radii (N, V)) of the right token over each token, from the query's final
        state h (before ln_f): every admissible evaluation has logit_right - logit_j within lead +- radius (each
        logit rounded on its own, then compared exactly; 0 +- 0 for j = right)."""
        y = self.layer_norm(h, model.ln_f)
        w = model.head.weight.detach().double()
        C = w.shape[1]
        logits = y.mid @ w.T
        leads = logits.gather(1, truth[:, None]) - logits
        mag = y.mag @ w.abs().T  # sum |w_j| |y|, for each logit's own rounding
        diff = (w[:, None, :] - w[None, :, :]).abs()  # (V, V, C): |w_t - w_j|
        if y.shared:
            table = self.up((y.rad @ diff.transpose(1, 2))[:, 0] + self.gamma(C) * (mag.T + mag))  # [t, j]
            table.fill_diagonal_(0.0)
            return leads, table[truth]
        rad = self.up(
            torch.einsum("nc,njc->nj", y.rad, diff[truth]) + self.gamma(C) * (mag.gather(1, truth[:, None]) + mag)
        )
        return leads, rad.scatter(1, truth[:, None], 0.0)


def certified_leads(leads: torch.Tensor, rad: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """(N,) min over wrong tokens j of (lead over j) - (its radius): > 0 means every admissible evaluation ranks
    the right token strictly first. NaN counts as not certified (-inf)."""
    low = (
        (leads - rad).nan_to_num(nan=-math.inf, posinf=math.inf, neginf=-math.inf).scatter(1, truth[:, None], math.inf)
    )
    return low.min(dim=1).values
