"""Mean-value forms per layer: an enclosure whose radii follow the model's real sensitivity, not the product of
each operation's worst case.

Ball arithmetic (enclosure.Enclosure) bounds each operation on its own: a linear map moves a radius by |W| r,
a layer norm divides it by the smallest spread, and the signs that make errors cancel are thrown away at every
step. Over a transformer layer that costs about 10³ in float32 (docs/verification.md, "Float32"), and no model
clears its radii. Here each layer is bounded as a whole. For one output component y_c of a layer, write the
layer as a function G of its inputs x and of the error δ_i each operation i adds to its result (|δ_i| <= e_i,
the rounding model of enclosure.py). Any evaluation in the certified precision is G(x̂, δ) for some x̂ within
the input balls and some such δ, and the float64 midpoint is G(m, δ') for others. By the mean-value theorem,

    y_c(evaluation) - y_c(midpoint) = ∇G_c(ξ) · ((x̂, δ) - (m, δ'))

for some ξ on the segment between them, which lies inside the balls that plain ball arithmetic gives each
intermediate value. So

    |y_c(evaluation) - y_c(midpoint)| <= Σ_i <|g_i| + Δg_i, e_i> + Σ_j <|g_j| + Δg_j, r_j>

where g = ∇G_c at the midpoint (the adjoint, computed backwards through the layer in float64, with signs: a
layer norm's centring and a linear map's cancellations count) and Δg bounds how far the adjoint can move over
the balls (each operation's Jacobian evaluated in interval arithmetic over its input ball, plus the float64
rounding of the adjoint itself). The balls enter only through Δg, a second-order term, so their looseness no
longer compounds from layer to layer: each layer's output radius is computed afresh from its input radii.

Inside a layer two values are bounded this way, the residual stream after attention and the output, so the
MLP's balls start from a tight radius. The last layer of a field is bounded by ball arithmetic from its output
first (one state per case: cheap), and where that leaves a case open, the same way with the leads as outputs: the
adjoint of logit_right - logit_j, for every token j, through ln_f and the head. Every bound holds for any
summation order and blocking, as in enclosure.py; the rounding model (enclosure.ROUNDING_MODEL) is the same.
"""

from __future__ import annotations

import math

import torch

from numerate.verify.enclosure import TRANSCENDENTAL_ULPS, U64, Ball, Enclosure, certified_leads

GELU_CURVATURE = 0.79789  # max |d²/dx² x Φ(x)| = max |φ(x) (2 - x²)| = 2 φ(0) = 0.7978845...
CHUNK = 2**22  # adjoint entries (cotangents x rows x widest value) computed at once


def gamma64(n: int) -> float:
    return n * U64 / (1 - n * U64)


def _prod(a, ra, b, rb):
    """Radius of the product of intervals a +- ra and b +- rb about a * b (elementwise)."""
    return a.abs() * rb + ra * (b.abs() + rb)


class Pending:
    """The last layer of a batch of fields, kept so that `lead_bounds` can bound the leads through it."""

    def __init__(self, tape: dict):
        self.tape = tape

    @property
    def mid(self):
        return self.tape["out"].mid

    def __getitem__(self, rows):
        return Pending(_gather(self.tape, rows))

    def __len__(self):
        return len(self.mid)


CONSTANTS = {"g", "n", "scale", "H", "D", "K", "kq", "block", "n_head", "bias"}  # per layer, not per row


def _gather(v, rows, key: str | None = None):
    if key in CONSTANTS:
        return v
    if isinstance(v, Ball):
        return Ball(v.mid[rows], v.rad[rows], v.top[rows])
    if isinstance(v, torch.Tensor):
        return v[rows]
    if isinstance(v, dict):
        return {k: _gather(x, rows, k) for k, x in v.items()}
    return v


class MeanValue(Enclosure):
    """Ball arithmetic inside a layer, mean-value forms between layers (the module docstring)."""

    def __init__(self, precision: str = "float32"):
        super().__init__(precision)
        self.U_mid = 2 * U64  # the float64 midpoint's own rounding (softmax weights)

    def step(self, t: int, depth: int) -> None:
        self.share = False  # radii per row: a shared radius would mix the rows' adjoints

    # ------------------------------------------------------------------ forward: balls and local errors

    def _linear(self, x: Ball, lin):
        w, wa, b, ba = self._w(lin)
        y = x.mid @ w.T
        mag = x.mag @ wa.T
        if b is not None:
            y = y + b
            mag = mag + ba
        local = self.up(self.gamma(w.shape[1] + 1) * mag)
        return Ball(y, self.up(x.rad @ wa.T + local)), local

    def _add(self, a: Ball, b: Ball):
        y = a.mid + b.mid
        local = self.up(self.U * (y.abs() + a.rad + b.rad))
        return Ball(y, self.up(a.rad + b.rad + local)), local

    def _gelu(self, x: Ball):
        local = self.up((self.ULP_T + 6 * self.U) * x.mag)
        out = Ball(torch.nn.functional.gelu(x.mid), self.up(1.1290 * x.rad + local))
        return out, local

    def _layer_norm(self, x: Ball, ln):
        y, _, p = self.layer_norm_parts(x, ln)
        U = self.U
        local = self.up(p["ga"] * p["e"] + 2 * U * (1 + U) * (p["ga"] * (p["zb"] + p["e"]) + p["ba"]))
        out = Ball(y, self.up(p["ga"] * p["moved"] + local))
        n = x.mid.shape[-1]
        a = p["a"]
        # |1/sigma(xi) - a| over the ball: the exact move (w2) and the float64 rounding of a itself
        da = p["w2"] + p["e_var64"] / (2 * p["sigma0"] ** 3) + 8 * U64 * a
        back = dict(
            g=ln.weight.detach().double(), z=p["z"], dz=p["moved"] + p["e"], a=a, a_hi=1 / p["sigma_lo"], da=da, n=n
        )
        return out, local, back

    def _attention(self, q: Ball, ks: Ball, vs: Ball, bias: torch.Tensor, n_head: int):
        """q (N, C), ks and vs (N, K, C): the ball of one query's attention output, its local error and what the
        adjoint needs. The weights' move over the ball: |log(p(xi) / p)| <= ms_l + max ms (ms: the scores' move)."""
        U, gamma = self.U, self.gamma
        n, K, C = ks.mid.shape
        H, D = n_head, C // n_head
        scale = 1 / math.sqrt(D)
        qm, qr = q.mid.view(n, H, 1, D), q.rad.view(n, H, 1, D)
        km, kr = (t.view(n, K, H, D).transpose(1, 2) for t in (ks.mid, ks.rad))  # (n, H, K, D)
        vm, vr = (t.view(n, K, H, D).transpose(1, 2) for t in (vs.mid, vs.rad))
        b = bias.double()
        s = (qm * km).sum(-1) * scale + b  # (n, H, K)
        p = torch.softmax(s, dim=-1)
        y = (p[..., None] * vm).sum(2)  # (n, H, D)
        qa, ka = qm.abs(), km.abs()
        ms = (qa * kr + qr * (ka + kr)).sum(-1) * scale  # the exact scores' move over the ball
        mag = ((qa + qr) * (ka + kr)).sum(-1) * scale
        es = self.up(gamma(D + 4) * mag + 2 * U * (mag + b.abs()))  # one evaluation's score error
        MS, ES = ms.amax(-1, keepdim=True), es.amax(-1, keepdim=True)
        spread = s.amax(-1, keepdim=True) - s.amin(-1, keepdim=True) + 2 * (MS + ES)
        rel = 2 * self.ULP_T + 2 * K * (self.ULP_T + 2 * U) + 8 * U + gamma(K) + 4 * U * spread
        u = self.U_mid
        ut = TRANSCENDENTAL_ULPS * u
        rel_mid = 2 * ut + 2 * K * (ut + 2 * u) + 8 * u + gamma64(K) + 4 * u * spread  # the midpoint's weights
        move = ms + MS + rel_mid  # |log(exact weight anywhere in the ball / midpoint weight)|
        dp = p * torch.expm1(move)
        p_hi = p + dp
        vmag = vm.abs() + vr
        g_err = es + ES + rel  # |log(computed weight / exact weight at the computed scores)|
        local = ((p_hi * (torch.expm1(g_err) + gamma(K + 1) * torch.exp(g_err)))[..., None] * vmag).sum(2)
        moved = (
            (dp[..., None] * vmag).sum(2) + (p[..., None] * vr).sum(2) + gamma64(K + 1) * (p[..., None] * vmag).sum(2)
        )
        local = self.up(local).reshape(n, C)
        out = Ball(y.reshape(n, C), self.up(moved.reshape(n, C) + local))
        back = dict(p=p, dp=dp, qm=qm[:, :, 0], qr=qr[:, :, 0], km=km, kr=kr, vm=vm, vr=vr, scale=scale, H=H, D=D)
        return out, local, back

    # ------------------------------------------------------------------ one layer

    def layer(self, block, xs: Ball, kq: int, bias: torch.Tensor, n_head: int, final: bool):
        """The layer's output for each row, from the block inputs xs (N, K, C) of its K visible tokens (the
        query's own at index kq): a Ball with mean-value radii, or, for the last layer (one state per case), a
        Pending with plain balls, which lead_bounds tightens only for the cases those leave open."""
        t = self._forward(block, xs, kq, bias, n_head, tight=not final)
        return Pending(t) if final else t["out"]

    def _forward(self, block, xs: Ball, kq: int, bias: torch.Tensor, n_head: int, tight: bool) -> dict:
        """The layer's balls, local errors and what the adjoint needs. With `tight`, four values get mean-value
        radii from the layer's inputs (each the tighter of two enclosures that both hold): qkv per key and the
        MLP's first layer (norm-then-linear maps), the residual stream after attention (z) and the output. Every
        operation's ball after one of them starts from its tight radius, so ball arithmetic's growth (which
        reaches the bound only through the adjoint's move) is confined to a short stretch."""
        n, K, C = xs.mid.shape
        t: dict = {"xs": xs, "K": K, "kq": kq, "block": block, "n_head": n_head, "bias": bias}
        a, t["a_e"], t["ln1"] = self._layer_norm(xs, block.ln1)
        qkv, t["qkv_e"] = self._linear(a, block.attn.qkv)
        if tight:
            qkv.rad = torch.minimum(qkv.rad, self._norm_linear(xs, t["ln1"], t["a_e"], block.attn.qkv, t["qkv_e"]))
        q = Ball(qkv.mid[:, kq, :C], qkv.rad[:, kq, :C], qkv.top[:, kq, :C])
        k = Ball(qkv.mid[..., C : 2 * C], qkv.rad[..., C : 2 * C], qkv.top[..., C : 2 * C])
        v = Ball(qkv.mid[..., 2 * C :], qkv.rad[..., 2 * C :], qkv.top[..., 2 * C :])
        att, t["att_e"], t["attn"] = self._attention(q, k, v, bias, n_head)
        o, t["o_e"] = self._linear(att, block.attn.proj)
        xq = Ball(xs.mid[:, kq], xs.rad[:, kq], xs.top[:, kq])
        z, t["z_e"] = self._add(xq, o)
        if tight:
            z.rad = torch.minimum(z.rad, self._components(t, self._attn_bound))
        l2, t["l2_e"], t["ln2"] = self._layer_norm(z, block.ln2)
        f, t["f_e"] = self._linear(l2, block.mlp[0])
        if tight:
            f.rad = torch.minimum(f.rad, self._norm_linear(z, t["ln2"], t["l2_e"], block.mlp[0], t["f_e"]))
        gl, t["gl_e"] = self._gelu(f)
        m2, t["m2_e"] = self._linear(gl, block.mlp[2])
        out, t["out_e"] = self._add(z, m2)
        t["f"] = f
        if tight:
            out.rad = torch.minimum(out.rad, self._components(t, self._layer_bound))
        t["out"] = out
        return t

    def _norm_linear(self, x: Ball, ln_back: dict, ln_e, lin, lin_e) -> torch.Tensor:
        """The mean-value radius of lin(layer_norm(x)), each output component its own functional (a per-token
        map: the rows of x (N, ..., C) are independent): <|J^T e_s| + its move, r_x> + |W_s| ln_e + lin_e."""
        w, wa, _, _ = self._w(lin)
        S, C = w.shape
        lead = x.mid.shape[:-1]
        if x.mid.dim() > 2:  # one row per token state: keys repeat across the rows of a batch, bound each once
            flat = torch.cat([x.mid.reshape(-1, C), x.rad.reshape(-1, C)], dim=1)
            uniq, inverse = torch.unique(flat, dim=0, return_inverse=True)
            first = torch.full((len(uniq),), len(flat), dtype=torch.long).scatter_reduce(
                0, inverse, torch.arange(len(flat)), reduce="amin"
            )
            x2 = Ball(x.mid.reshape(-1, C)[first], x.rad.reshape(-1, C)[first], x.top.reshape(-1, C)[first])
            back2 = {k: (v if k in CONSTANTS else v.reshape(-1, v.shape[-1])[first]) for k, v in ln_back.items()}
            e2 = ln_e.reshape(-1, C)[first]
            le2 = lin_e.reshape(-1, S)[first]
            return self._norm_linear(x2, back2, e2, lin, le2)[inverse].reshape(*lead, S)
        per_row = max(1, math.prod(x.mid.shape[1:-1]) * S * C)
        rows_at_once = max(1, CHUNK // per_row)
        parts = []
        for lo in range(0, len(x.mid), rows_at_once):
            rows = torch.arange(lo, min(len(x.mid), lo + rows_at_once))
            shape = (S, *x.mid[rows].shape)
            g = w.view(S, *([1] * (len(shape) - 2)), C).expand(shape)
            g_x, dg_x = self._ln_back(g, torch.zeros(shape, dtype=torch.float64), _gather(ln_back, rows))
            through_w = wa.view(S, *([1] * (len(shape) - 2)), C) * ln_e[rows]  # the norm's own error, through W
            part = ((g_x.abs() + dg_x) * x.rad[rows]).sum(-1) + through_w.sum(-1)
            parts.append(part.movedim(0, -1))
        return self.up(torch.cat(parts) + lin_e)

    def _components(self, t: dict, bound) -> torch.Tensor:
        """(N, C): the mean-value radius of each component of a C-wide value (bound: _attn_bound for z,
        _layer_bound for the output), each component its own functional, known exactly."""
        n, K, C = t["xs"].mid.shape
        eye = torch.eye(C, dtype=torch.float64)

        def components(rows):
            g = eye[:, None, :].expand(C, len(rows), C)
            return g, torch.zeros_like(g)

        return self.up(self._bound(t, C, components, bound).T.contiguous())

    def _bound(self, t: dict, S: int, seeds, bound) -> torch.Tensor:
        """(S, N): a bound on how far each of S linear functionals can move, for every row. seeds(rows) gives
        their coefficients (S, rows, C) and how far those may move; chunked over rows."""
        n, K, C = t["xs"].mid.shape
        rows_at_once = max(1, CHUNK // max(1, S * K * 3 * C))
        parts = []
        for lo in range(0, n, rows_at_once):
            rows = torch.arange(lo, min(n, lo + rows_at_once))
            g, dg = seeds(rows)
            parts.append(bound(_gather(t, rows), g, dg))
        return torch.cat(parts, dim=1)

    def _layer_bound(self, t: dict, g: torch.Tensor, dg: torch.Tensor) -> torch.Tensor:
        """Σ over the layer's operations of <|adjoint| + its move, local error>, and the same over the inputs'
        radii: (S, N) for cotangents g +- dg (S, N, C) of the layer's output."""
        block = t["block"]
        total = self._dot(g, dg, t["out_e"]) + self._dot(g, dg, t["m2_e"])  # out = z + m2
        g_gl, dg_gl = self._lin_back(g, dg, block.mlp[2])  # m2 = proj(gelu(f))
        total = total + self._dot(g_gl, dg_gl, t["gl_e"])
        g_f, dg_f = self._gelu_back(g_gl, dg_gl, t["f"])
        total = total + self._dot(g_f, dg_f, t["f_e"])
        g_l2, dg_l2 = self._lin_back(g_f, dg_f, block.mlp[0])  # f = fc(l2)
        total = total + self._dot(g_l2, dg_l2, t["l2_e"])
        g_z, dg_z = self._ln_back(g_l2, dg_l2, t["ln2"])  # l2 = ln2(z)
        return total + self._attn_bound(t, g_z + g, dg_z + dg)

    def _attn_bound(self, t: dict, g_z: torch.Tensor, dg_z: torch.Tensor) -> torch.Tensor:
        """The same for cotangents of z = x + proj(attention(ln1(x))), the residual stream after attention."""
        block, kq = t["block"], t["kq"]
        C = g_z.shape[-1]
        total = self._dot(g_z, dg_z, t["z_e"]) + self._dot(g_z, dg_z, t["o_e"])
        g_att, dg_att = self._lin_back(g_z, dg_z, block.attn.proj)
        total = total + self._dot(g_att, dg_att, t["att_e"])
        (g_q, dg_q), (g_k, dg_k), (g_v, dg_v) = self._attn_back(g_att, dg_att, t["attn"])
        g_qkv = torch.cat([torch.zeros_like(g_k), g_k, g_v], dim=-1)  # (S, N, K, 3C)
        dg_qkv = torch.cat([torch.zeros_like(dg_k), dg_k, dg_v], dim=-1)
        g_qkv[:, :, kq, :C] = g_q
        dg_qkv[:, :, kq, :C] = dg_q
        total = total + self._dot(g_qkv, dg_qkv, t["qkv_e"])
        g_a, dg_a = self._lin_back(g_qkv, dg_qkv, block.attn.qkv)
        total = total + self._dot(g_a, dg_a, t["a_e"])
        g_x, dg_x = self._ln_back(g_a, dg_a, t["ln1"])
        g_x[:, :, kq] += g_z
        dg_x[:, :, kq] += dg_z
        return total + self._dot(g_x, dg_x, t["xs"].rad)

    @staticmethod
    def _dot(g, dg, e) -> torch.Tensor:
        """Σ over the value's elements of (|g| + dg) e: (S, N)."""
        return ((g.abs() + dg) * e).flatten(2).sum(-1)

    # ------------------------------------------------------------------ adjoints, with their move over the balls

    def _lin_back(self, g, dg, lin):
        w, wa, _, _ = self._w(lin)
        gx = g @ w
        return gx, self.up(dg @ wa + gamma64(w.shape[0] + 1) * (g.abs() @ wa))

    def _gelu_back(self, g, dg, f: Ball):
        x = f.mid
        d = 0.5 * (1 + torch.erf(x / math.sqrt(2))) + x * torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        dd = GELU_CURVATURE * f.rad + 32 * U64 * (1 + x.abs())  # gelu' over the ball, and its float64 rounding
        gx = g * d
        return gx, self.up((d.abs() + dd) * dg + dd * g.abs() + 2 * U64 * gx.abs())

    def _ln_back(self, G, dG, b: dict):
        """J^T G over the ball, J = diag(g) (1/sigma) (I - 1 1^T/n - z z^T/n): (1/sigma) (h - mean h - z mean(h z))
        with h = g * G, every factor an interval (a = 1/sigma +- da, z +- dz)."""
        gw = b["g"]
        z, dz, a, da, a_hi = b["z"], b["dz"], b["a"], b["da"], b["a_hi"]
        h = G * gw
        dh = dG * gw.abs()
        hz = h * z
        s = hz.mean(-1, keepdim=True)
        ds = _prod(h, dh, z, dz).mean(-1, keepdim=True)
        t1 = h - h.mean(-1, keepdim=True)
        dt1 = dh + dh.mean(-1, keepdim=True)
        t = t1 - z * s
        dt = dt1 + _prod(z, dz, s, ds)
        gx = a * t
        absval = a_hi * (h.abs() + h.abs().mean(-1, keepdim=True) + z.abs() * hz.abs().mean(-1, keepdim=True))
        dgx = a_hi * dt + da * t.abs() + gamma64(2 * b["n"] + 8) * absval
        return gx, self.up(dgx)

    def _attn_back(self, G, dG, b: dict):
        """The adjoints of q (S, N, C), k and v (S, N, K, C) from those of the output (S, N, C), over the ball:
        g_v_l = p_l G, g_s_l = p_l (v_l . G - Σ p_j v_j . G), g_q = scale Σ g_s_l k_l, g_k_l = scale g_s_l q."""
        S, N, C = G.shape
        H, D, scale = b["H"], b["D"], b["scale"]
        p, dp = b["p"], b["dp"]  # (N, H, K)
        K = p.shape[-1]
        Gh, dGh = G.view(S, N, H, 1, D), dG.view(S, N, H, 1, D)
        vm, vr, km, kr = b["vm"], b["vr"], b["km"], b["kr"]  # (N, H, K, D)
        qm, qr = b["qm"], b["qr"]  # (N, H, D)
        P, dP = p[..., None], dp[..., None]
        g_v = P * Gh  # (S, N, H, K, D)
        dg_v = _prod(P, dP, Gh, dGh)
        w = (vm * Gh).sum(-1)  # (S, N, H, K)
        dw = _prod(vm, vr, Gh, dGh).sum(-1)
        wbar = (p * w).sum(-1, keepdim=True)
        dwbar = _prod(p, dp, w, dw).sum(-1, keepdim=True)
        d = w - wbar
        dd = dw + dwbar
        gs = p * d  # (S, N, H, K)
        dgs = _prod(p, dp, d, dd)
        g_q = scale * (gs[..., None] * km).sum(-2)  # (S, N, H, D)
        dg_q = scale * _prod(gs[..., None], dgs[..., None], km, kr).sum(-2)
        g_k = scale * gs[..., None] * qm[:, :, None, :]
        dg_k = scale * _prod(gs[..., None], dgs[..., None], qm[:, :, None, :], qr[:, :, None, :])
        # the float64 rounding of these few sums and products, against the same sums of absolute values
        slack = gamma64(2 * (K + D) + 8)
        aw = (vm.abs() * Gh.abs()).sum(-1)
        ags = p * (aw + (p * aw).sum(-1, keepdim=True))
        dg_v = dg_v + slack * P * Gh.abs()
        dg_q = dg_q + slack * scale * (ags[..., None] * km.abs()).sum(-2)
        dg_k = dg_k + slack * scale * ags[..., None] * qm.abs()[:, :, None, :]

        def keys(x):  # (S, N, H, K, D) -> (S, N, K, C)
            return x.transpose(2, 3).reshape(S, N, K, C)

        return (
            (g_q.reshape(S, N, C), self.up(dg_q.reshape(S, N, C))),
            (keys(g_k), self.up(keys(dg_k))),
            (keys(g_v), self.up(keys(dg_v))),
        )

    # ------------------------------------------------------------------ the answer

    def lead_bounds(self, model, h, truth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(float64 leads (N, V), their radii (N, V)), as Enclosure.lead_bounds: first by ball arithmetic from the
        last layer's output (cheap), then, for the cases that leaves open, through the last layer's adjoint. Both
        enclose every evaluation, so each lead keeps the smaller radius."""
        if isinstance(h, Ball):
            return super().lead_bounds(model, h, truth)
        leads, rad = super().lead_bounds(model, h.tape["out"], truth)
        open_ = torch.nonzero(certified_leads(leads, rad, truth) <= 0).flatten()
        if len(open_):  # the layer again with mean-value radii inside, then balls from its output
            t = h[open_].tape
            t = self._forward(t["block"], t["xs"], t["kq"], t["bias"], t["n_head"], tight=True)
            _, tight = super().lead_bounds(model, t["out"], truth[open_])
            rad[open_] = torch.minimum(rad[open_], tight)
            still = torch.nonzero(certified_leads(leads[open_], rad[open_], truth[open_]) <= 0).flatten()
            if len(still):  # and the leads' own adjoints through the last layer
                _, tight = self._adjoint_leads(model, Pending(_gather(t, still)), truth[open_][still])
                rows = open_[still]
                rad[rows] = torch.minimum(rad[rows], tight)
        return leads, rad

    def _adjoint_leads(self, model, h: Pending, truth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = h.tape
        out = t["out"]
        y, y_e, ln_b = self._layer_norm(out, model.ln_f)
        w = model.head.weight.detach().double()
        V, C = w.shape
        logits = y.mid @ w.T
        leads = logits.gather(1, truth[:, None]) - logits
        mag = y.mag @ w.abs().T
        logit_e = self.gamma(C) * mag  # each logit's own rounding, (N, V)

        lnf_part = torch.zeros(len(truth), V, dtype=torch.float64)

        def seeds(rows):
            """lead_j = logit_right - logit_j for every j, as functionals of ln_f's output (exact up to one
            float64 subtraction), pulled back through ln_f; ln_f's own rounding counted on the way."""
            g = (w[truth[rows]][None, :, :] - w[:, None, :]).contiguous()  # (V, rows, C)
            dg = U64 * g.abs()
            lnf_part[rows] = self._dot(g, dg, y_e[rows]).T
            return self._ln_back(g, dg, _gather(ln_b, rows))

        rad = self._bound(t, V, seeds, self._layer_bound).T  # (N, V)
        rad = self.up(rad + lnf_part + logit_e + logit_e.gather(1, truth[:, None]) + U64 * leads.abs())
        return leads, rad.scatter(1, truth[:, None], 0.0)
