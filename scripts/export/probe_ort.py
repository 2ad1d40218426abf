"""Probe which QMoE / GroupQueryAttention attributes and layouts the installed onnxruntime CPU kernels accept, by
running them against numpy references:  .venv/bin/python -m scripts.export.probe_ort
(Results with onnxruntime 1.32 are recorded in qmoe_builder.py's docstring and docs/export.md.)
"""
import numpy as np
import onnxruntime as ort
from onnx import TensorProto as TP
from onnx import helper as h

rng = np.random.default_rng(0)


def probe_qmoe():
    E, H, I, K, T = 8, 64, 32, 2, 5
    def quant(w, bits, block):  # w [N, Kdim] -> packed uint8 [N, Kdim*bits/8], scales [N, nb] or [N]
        N, Kd = w.shape
        qmax = (1 << (bits - 1)) - 1; off = 1 << (bits - 1)
        if block:
            wb = w.reshape(N, Kd // block, block)
            s = np.abs(wb).max(-1) / qmax; s = np.maximum(s, 1e-8)
            q = np.clip(np.round(wb / s[..., None]), -off, qmax).astype(np.int32)
            deq = (q * s[..., None]).reshape(N, Kd); q = q.reshape(N, Kd)
        else:
            s = np.abs(w).max(-1) / qmax; s = np.maximum(s, 1e-8)
            q = np.clip(np.round(w / s[:, None]), -off, qmax).astype(np.int32); deq = q * s[:, None]
        u = (q + off).astype(np.uint8)
        if bits == 4:
            u = (u[:, 0::2] | (u[:, 1::2] << 4)).astype(np.uint8)
        return u, s.astype(np.float32), deq.astype(np.float32)
    
    def run(bits, block, fusion, dtype=np.float32):
        gate = rng.standard_normal((E, I, H)).astype(np.float32) / 8
        up = rng.standard_normal((E, I, H)).astype(np.float32) / 8
        down = rng.standard_normal((E, H, I)).astype(np.float32) / 6
        if fusion == 1:
            fc1 = np.empty((E, 2 * I, H), np.float32); fc1[:, 0::2] = gate; fc1[:, 1::2] = up
        else:
            fc1 = np.concatenate([gate, up], 1)
        f1 = [quant(fc1[e], bits, block) for e in range(E)]
        f2 = [quant(down[e], bits, block) for e in range(E)]
        W1 = np.stack([x[0] for x in f1]); S1 = np.stack([x[1] for x in f1]); D1 = np.stack([x[2] for x in f1])
        W2 = np.stack([x[0] for x in f2]); S2 = np.stack([x[1] for x in f2]); D2 = np.stack([x[2] for x in f2])
        attrs = dict(k=K, activation_type='swiglu', swiglu_fusion=fusion, normalize_routing_weights=1, expert_weight_bits=bits, activation_alpha=1.0, activation_beta=0.0)
        if block: attrs['block_size'] = block
        node = h.make_node('QMoE', ['x', 'r', 'w1', 's1', '', 'w2', 's2'], ['y'], domain='com.microsoft', **attrs)
        tdt = TP.FLOAT if dtype == np.float32 else TP.FLOAT16
        inits = [h.make_tensor('w1', TP.UINT8, W1.shape, W1.tobytes(), raw=True), h.make_tensor('w2', TP.UINT8, W2.shape, W2.tobytes(), raw=True),
                 h.make_tensor('s1', tdt, S1.shape, S1.astype(dtype).tobytes(), raw=True), h.make_tensor('s2', tdt, S2.shape, S2.astype(dtype).tobytes(), raw=True)]
        g = h.make_graph([node], 'g', [h.make_tensor_value_info('x', tdt, ['T', H]), h.make_tensor_value_info('r', tdt, ['T', E])], [h.make_tensor_value_info('y', tdt, ['T', H])], inits)
        m = h.make_model(g, opset_imports=[h.make_opsetid('', 18), h.make_opsetid('com.microsoft', 1)]); m.ir_version = 10
        so = ort.SessionOptions(); so.log_severity_level = 3
        s = ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])
        x = rng.standard_normal((T, H)).astype(np.float32); r = rng.standard_normal((T, E)).astype(np.float32) * 2
        y = s.run(None, {'x': x.astype(dtype), 'r': r.astype(dtype)})[0].astype(np.float32)
        # reference with dequantized weights
        p = np.exp(r - r.max(-1, keepdims=True)); p /= p.sum(-1, keepdims=True)
        idx = np.argsort(-p, -1)[:, :K]; ref = np.zeros_like(x)
        for t in range(T):
            w = p[t, idx[t]]; w = w / w.sum()
            for j, e in enumerate(idx[t]):
                g1 = D1[e] @ x[t]
                gg, uu = (g1[0::2], g1[1::2]) if fusion == 1 else (g1[:I], g1[I:])
                a = gg / (1 + np.exp(-gg)) * uu
                ref[t] += w[j] * (D2[e] @ a)
        return np.abs(y - ref).max(), np.abs(ref).max()
    for bits, block, fusion in [(8, 0, 1), (8, 16, 1), (8, 32, 1), (8, 0, 2), (4, 0, 1), (4, 32, 1), (4, 32, 2)]:
        try:
            err, mag = run(bits, block, fusion)
            print(f"QMoE fp32 bits={bits} block={block} swiglu_fusion={fusion}: max abs err vs dequantised ref {err:.3g} (|ref| max {mag:.3g})")
        except Exception as e:  # noqa: BLE001
            print(f"QMoE fp32 bits={bits} block={block} swiglu_fusion={fusion}: ERROR {str(e).splitlines()[0][:240]}")
    err, mag = run(4, 32, 1, np.float16)
    print(f"QMoE fp16 bits=4 block=32 swiglu_fusion=1: max abs err {err:.3g} (|ref| max {mag:.3g})")


def probe_gqa():
    NH, KV, HD, MAXS = 4, 2, 16, 64
    theta = 1e6
    inv = 1.0 / theta ** (np.arange(0, HD, 2) / HD)
    ang = np.arange(MAXS)[:, None] * inv[None]
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    def build(use_pos=False):
        ins = ['q', 'k', 'v', 'pk', 'pv', 'sl', 'tl', 'cos', 'sin'] + (['pos'] if use_pos else [])
        n = h.make_node('GroupQueryAttention', ins, ['o', 'prk', 'prv'], domain='com.microsoft', num_heads=NH, kv_num_heads=KV, do_rotary=1, rotary_interleaved=0, scale=HD ** -0.5)
        vi = h.make_tensor_value_info
        g = h.make_graph([n], 'g', [vi('q', TP.FLOAT, ['B', 'S', NH * HD]), vi('k', TP.FLOAT, ['B', 'S', KV * HD]), vi('v', TP.FLOAT, ['B', 'S', KV * HD]),
            vi('pk', TP.FLOAT, ['B', KV, 'P', HD]), vi('pv', TP.FLOAT, ['B', KV, 'P', HD]), vi('sl', TP.INT32, ['B']), vi('tl', TP.INT32, [])] + ([vi('pos', TP.INT64, ['B','S'])] if use_pos else []),
            [vi('o', TP.FLOAT, ['B', 'S', NH * HD]), vi('prk', TP.FLOAT, None), vi('prv', TP.FLOAT, None)],
            [h.make_tensor('cos', TP.FLOAT, cos.shape, cos.tobytes(), raw=True), h.make_tensor('sin', TP.FLOAT, sin.shape, sin.tobytes(), raw=True)])
        m = h.make_model(g, opset_imports=[h.make_opsetid('', 18), h.make_opsetid('com.microsoft', 1)]); m.ir_version = 10
        so = ort.SessionOptions(); so.log_severity_level = 3
        return ort.InferenceSession(m.SerializeToString(), so, providers=['CPUExecutionProvider'])
    def rope(x, pos):  # x [S, n, HD]
        c = np.concatenate([cos[pos], cos[pos]], -1)[:, None]; s = np.concatenate([sin[pos], sin[pos]], -1)[:, None]
        rh = np.concatenate([-x[..., HD // 2:], x[..., :HD // 2]], -1)
        return x * c + rh * s
    def ref_attn(q, K, V, P):  # q [S,NH,HD], K/V [total, KV, HD]
        S = q.shape[0]; tot = K.shape[0]; out = np.zeros_like(q)
        for hh in range(NH):
            kvh = hh // (NH // KV)
            sc = q[:, hh] @ K[:, kvh].T * HD ** -0.5
            mask = np.arange(tot)[None] <= (np.arange(S)[:, None] + P)
            sc = np.where(mask, sc, -1e30); p = np.exp(sc - sc.max(-1, keepdims=True)); p /= p.sum(-1, keepdims=True)
            out[:, hh] = p @ V[:, kvh]
        return out
    for use_pos in (False, True):
        try:
            s = build(use_pos)
        except Exception as e:
            print('build err', use_pos, str(e)[:300]); continue
        S0 = 7
        q = rng.standard_normal((1, S0, NH * HD)).astype(np.float32); k = rng.standard_normal((1, S0, KV * HD)).astype(np.float32); v = rng.standard_normal((1, S0, KV * HD)).astype(np.float32)
        feeds = dict(q=q, k=k, v=v, pk=np.zeros((1, KV, 0, HD), np.float32), pv=np.zeros((1, KV, 0, HD), np.float32), sl=np.array([S0 - 1], np.int32), tl=np.array(S0, np.int32))
        if use_pos: feeds['pos'] = np.arange(S0)[None]
        o, pk, pv = s.run(None, feeds)
        pos = np.arange(S0)
        Kr = rope(k[0].reshape(S0, KV, HD), pos); Vr = v[0].reshape(S0, KV, HD)
        ref = ref_attn(rope(q[0].reshape(S0, NH, HD), pos), Kr, Vr, 0).reshape(1, S0, -1)
        print('use_pos', use_pos, 'prefill', np.abs(o - ref).max(), pk.shape, np.abs(pk[0].transpose(1, 0, 2) - Kr).max())
        # decode step
        q1 = rng.standard_normal((1, 1, NH * HD)).astype(np.float32); k1 = rng.standard_normal((1, 1, KV * HD)).astype(np.float32); v1 = rng.standard_normal((1, 1, KV * HD)).astype(np.float32)
        feeds = dict(q=q1, k=k1, v=v1, pk=pk, pv=pv, sl=np.array([S0], np.int32), tl=np.array(S0 + 1, np.int32))
        if use_pos: feeds['pos'] = np.array([[S0]])
        o1, pk1, pv1 = s.run(None, feeds)
        K2 = np.concatenate([Kr, rope(k1[0].reshape(1, KV, HD), np.array([S0]))]); V2 = np.concatenate([Vr, v1[0].reshape(1, KV, HD)])
        ref1 = ref_attn(rope(q1[0].reshape(1, NH, HD), np.array([S0])), K2, V2, S0).reshape(1, 1, -1)
        print('  decode', np.abs(o1 - ref1).max(), pk1.shape)
        # chunked prefill: 3 tokens on top of 7 past
        q3 = rng.standard_normal((1, 3, NH * HD)).astype(np.float32); k3 = rng.standard_normal((1, 3, KV * HD)).astype(np.float32); v3 = rng.standard_normal((1, 3, KV * HD)).astype(np.float32)
        feeds = dict(q=q3, k=k3, v=v3, pk=pk, pv=pv, sl=np.array([S0 + 2], np.int32), tl=np.array(S0 + 3, np.int32))
        if use_pos: feeds['pos'] = np.arange(S0, S0 + 3)[None]
        try:
            o3, _, _ = s.run(None, feeds)
            p3 = np.arange(S0, S0 + 3)
            K3 = np.concatenate([Kr, rope(k3[0].reshape(3, KV, HD), p3)]); V3 = np.concatenate([Vr, v3[0].reshape(3, KV, HD)])
            ref3 = ref_attn(rope(q3[0].reshape(3, NH, HD), p3), K3, V3, S0).reshape(1, 3, -1)
            print('  chunk', np.abs(o3 - ref3).max())
        except Exception as e:
            print('  chunk err', str(e)[:300])


if __name__ == "__main__":
    probe_qmoe()
    probe_gqa()
