"""Look inside one training step of the tutorial CNN: the graph, the backward trace, hooks, profile.

Every output shown in docs/backprop.md comes from this script (run it to see your own numbers;
the times differ from machine to machine, the values do not):

    python examples/inspect_graph.py                 # first 64 MNIST training images, seed 0
    python examples/inspect_graph.py --out /tmp/viz  # where the DOT (and SVG) files go

The steps, in the order the doc walks through them:

 1. a real MNIST batch, preprocessed as the tutorial does, and the "cnn" model (seed 004's ``Net``);
 2. the forward pass, with a hook on the first conv's output and ``retain_grad`` on the logits;
 3. the backward graph the forward recorded (``tg.viz.graph``);
 4. ``loss.backward()`` inside ``tg.autograd.trace()`` and ``tg.profile()``: the hooks print as the
    gradient flows past, then the trace table;
 5. the graph again, now with the norm of every gradient;
 6. what ``retain_grad`` kept: d loss / d logits, checked against softmax - onehot;
 7. the optimizer step, and the loss on the same batch before and after;
 8. ``tg.autograd.grad``: d loss / d input image, without touching any ``.grad``;
 9. the DOT file (and an SVG when Graphviz is installed);
10. the per-op profile of the step;
11. anomaly detection: a planted log(0) in the forward, and an infinite gradient (sqrt at 0) in
    the backward, each caught and named;
12. a second derivative: the graph that ``create_graph=True`` records for a backward, a hand
    derivation checked, and a Hessian-vector product of the CNN's loss against finite differences.
"""
import argparse
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

import tinygrad_mnist as tg  # noqa: E402
import tinygrad_mnist.nn.functional as F  # noqa: E402
from tinygrad_mnist.models import build_model  # noqa: E402
from tinygrad_mnist.specs import get_spec  # noqa: E402
from tinygrad_mnist.training import load_mnist, preprocess  # noqa: E402


def norm(t):
    """The Euclidean norm of a tensor's values, as a float."""
    return float(np.linalg.norm(tg.backend.to_numpy(t.array).astype(np.float64)))


def section(title):
    print(f"\n=== {title} ===")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(ROOT / "data" / "mnist"))
    p.add_argument("--out", default=str(ROOT / "runs" / "inspect_graph"),
                   help="directory for the DOT file (and the SVG when Graphviz's dot is installed)")
    p.add_argument("--batch-size", type=int, default=64, help="the tutorial's 64")
    p.add_argument("--seed", type=int, default=0, help="seed of the model's initial weights")
    args = p.parse_args()

    # ------------------------------------------------------------------ 1. data and model
    section("1. A real MNIST batch and the tutorial CNN")
    spec = get_spec("cnn")
    x_train, y_train, _, _ = load_mnist(args.data_dir)
    x = tg.tensor(preprocess(x_train[:args.batch_size], spec))   # (64, 1, 28, 28), scaled to [-1, 1]
    y = tg.tensor(y_train[:args.batch_size])
    model = build_model("cnn", seed=args.seed)
    params = dict(model.named_parameters())
    opt = tg.optim.Adam(model.parameters(), **dict(spec.optimizer_kwargs))
    print(f"x {tuple(x.shape)} {x.dtype}, values in [{float(x.min()):.1f}, {float(x.max()):.1f}]; "
          f"y {tuple(y.shape)}, first labels {y.tolist()[:10]}")
    print(f"model 'cnn' ({type(model).__name__}): {sum(t.numel() for t in params.values())} parameters "
          f"in {len(params)} tensors; optimizer {spec.optimizer} {dict(spec.optimizer_kwargs)}")

    # ------------------------------------------------------------------ 2. forward with hooks
    section("2. Forward, with hooks")
    hook_log = []

    def conv_output_hook(grad):                       # a tensor hook: sees d loss / d (conv output)
        print(f"  [hook] d loss / d convs.0 output: shape {tuple(grad.shape)}, |grad| {norm(grad):.4g}")
        hook_log.append(grad)

    def attach(module, inputs, output):               # a forward hook puts a tensor hook on the output
        handles.append(output.register_hook(conv_output_hook))

    def weight_hook(grad):                            # a hook on a leaf runs before .grad is written
        print(f"  [hook] d loss / d convs.0.weight: shape {tuple(grad.shape)}, |grad| {norm(grad):.4g}")

    handles = [model.convs[0].register_forward_hook(attach),
               params["convs.0.weight"].register_hook(weight_hook)]

    with tg.profile() as prof:                        # 4 and 10: the whole step, op by op
        logits = model(x)
        logits.retain_grad()                          # keep d loss / d logits (a non-leaf)
        loss = F.cross_entropy(logits, y)
        print(f"logits {tuple(logits.shape)}, grad_fn {logits.grad_fn.name()}; "
              f"loss {loss.item():.4f} (ln 10 = {np.log(10):.4f}: an untrained model guesses)")
        print("loss.grad_fn.next_functions: "
              + str(tuple((fn.name() if fn is not None else None, i) for fn, i in loss.grad_fn.next_functions))
              + "  (None: the labels need no gradient)")

        # -------------------------------------------------------------- 3. the graph
        section("3. The backward graph of the loss (tg.viz.graph), before backward")
        print(tg.viz.graph(loss, params=params))

        # -------------------------------------------------------------- 4. traced backward
        section("4. loss.backward() inside tg.autograd.trace(): hooks fire as the gradient flows")
        with tg.autograd.trace() as trace:
            loss.backward()
        print(trace)

    # ------------------------------------------------------------------ 5. graph after backward
    section("5. The graph after the traced backward: |grad| of every node")
    print(tg.viz.graph(loss, params=params))

    # ------------------------------------------------------------------ 6. retain_grad
    section("6. retain_grad: d loss / d logits = (softmax(logits) - onehot(y)) / N")
    g = logits.grad
    with tg.no_grad():
        expected = (logits.softmax(dim=1) - F.one_hot(y, 10).float()) / len(y)
    print(f"logits.grad: shape {tuple(g.shape)}, |grad| {norm(g):.4g}, "
          f"max |logits.grad - (softmax - onehot)/N| = {float((g - expected).abs().max()):.3g}")
    print(f"each row sums to ~0 (softmax sums to 1, onehot too): max |row sum| = "
          f"{float(g.sum(dim=1).abs().max()):.3g}")
    print(f"row 0 (label {y.tolist()[0]}): {np.array2string(g[0].numpy(), precision=4, max_line_width=120)}")
    print(f"the hook saw {len(hook_log)} gradient(s); is_leaf: logits {logits.is_leaf}, "
          f"convs.0.weight {params['convs.0.weight'].is_leaf}")
    for h in handles:                                 # later forwards run without the hooks
        h.remove()

    # ------------------------------------------------------------------ 7. the optimizer step
    section("7. The optimizer step")
    grads_before = {n: t.grad.numpy().copy() for n, t in params.items()}
    opt.step()
    with tg.no_grad():
        after = F.cross_entropy(model(x), y).item()
    print(f"loss on the same batch: {loss.item():.4f} before the step, {after:.4f} after")

    # ------------------------------------------------------------------ 8. autograd.grad
    section("8. tg.autograd.grad: d loss / d input image (a saliency map), no .grad touched")
    x_in = x.detach().requires_grad_()
    loss2 = F.cross_entropy(model(x_in), y)
    (gx,) = tg.autograd.grad(loss2, x_in)
    untouched = all(np.array_equal(t.grad.numpy(), grads_before[n]) for n, t in params.items())
    print(f"d loss / d x: shape {tuple(gx.shape)}, |grad| {norm(gx):.4g}; x_in.grad is {x_in.grad}; "
          f"parameters' .grad unchanged: {untouched}")
    sal = gx.abs().sum(dim=(1, 2, 3))
    print(f"image with the largest |d loss / d x|: #{int(sal.argmax())} (label {y.tolist()[int(sal.argmax())]})")

    # ------------------------------------------------------------------ 9. DOT
    section("9. The graph as Graphviz DOT (tg.viz.to_dot / tg.viz.render)")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    dot_text = tg.viz.to_dot(loss, params=params)
    dot_path = out_dir / "cnn_backward.dot"
    dot_path.write_text(dot_text)
    n_nodes = sum(1 for line in dot_text.splitlines() if "[label=" in line)    # "  n3 [label=...];"
    n_edges = sum(1 for line in dot_text.splitlines() if re.fullmatch(r"  n\d+ -> n\d+;", line))
    print(f"wrote {dot_path} ({n_nodes} nodes, {n_edges} edges); its first lines:")
    print("\n".join(dot_text.splitlines()[:6]))
    try:
        svg = tg.viz.render(loss, out_dir / "cnn_backward.svg", params=params)
        print(f"rendered {svg}")
    except RuntimeError as exc:
        print(f"no picture: {exc}")

    # ------------------------------------------------------------------ 10. profile
    section("10. tg.profile(): the step's forward and backward, per op (slowest first)")
    print(prof)

    # ------------------------------------------------------------------ 11. anomaly detection
    section("11. Anomaly detection: a planted log(0) in the forward")
    onehot = F.one_hot(y, 10).float()

    def handmade_cross_entropy(logits, temperature):
        # log(softmax(z)) written naively: with a small temperature softmax underflows to exactly 0
        # for the non-winning classes, and log(0) = -inf (F.cross_entropy is one fused, stable op)
        probs = (logits / temperature).softmax(dim=1)
        return -(probs.log() * onehot).sum(dim=1).mean()

    with np.errstate(invalid="ignore"):  # NumPy would warn about -inf * 0 (PyTorch does not)
        silent = handmade_cross_entropy(model(x), 1e-4).item()
    print(f"without detection: loss = {silent} (silently)")
    try:
        with tg.autograd.detect_anomaly():
            handmade_cross_entropy(model(x), 1e-4)
    except tg.autograd.AnomalyError as exc:
        print(f"AnomalyError: {exc}")

    section("11b. Anomaly detection: an infinite gradient in the backward (sqrt at 0)")
    w = params["linears.4.weight"]
    w0 = w.detach().clone()                           # "stay close to the starting point" penalty

    def penalised_loss():
        return F.cross_entropy(model(x), y) + 0.01 * ((w - w0) ** 2).sum().sqrt()

    model.zero_grad()
    bad = penalised_loss()                            # ||w - w0|| = 0 here: d sqrt(u)/du = inf at 0
    with np.errstate(invalid="ignore"):  # NumPy would warn about inf * 0 (PyTorch does not)
        bad.backward()
    print(f"without detection: loss {bad.item():.4f} is fine, but |linears.4.weight.grad| = {norm(w.grad)}")
    model.zero_grad()
    try:
        with tg.autograd.detect_anomaly():
            penalised_loss().backward()
    except tg.autograd.AnomalyError as exc:
        print(f"AnomalyError: {exc}")

    # ------------------------------------------------------------------ 12. second derivatives
    section("12. A second derivative: f(x) = x tanh(x) at x = 0.5, by hand and by the engine")
    xs = tg.tensor(0.5, dtype=tg.float64, requires_grad=True)
    f = xs * xs.tanh()
    (df,) = tg.autograd.grad(f, xs, create_graph=True)      # the backward is recorded: df has a graph
    print(f"df/dx = {df.item():.12f}, grad_fn {df.grad_fn.name()}; the backward's own graph:")
    print(tg.viz.graph(df, params={"x": xs}))
    (d2f,) = tg.autograd.grad(df, xs)
    t = np.tanh(0.5)
    by_hand = 2 * (1 - t * t) - 2 * 0.5 * t * (1 - t * t)    # d/dx [tanh x + x (1 - tanh^2 x)]
    print(f"d2f/dx2 = {d2f.item():.12f}; by hand 2(1 - t^2) - 2x t (1 - t^2) = {by_hand:.12f}")

    section("12b. A Hessian-vector product of the CNN's loss in its last weight, against finite differences")
    w = params["linears.4.weight"]
    xd, yd = x.double(), y
    model.double()

    def loss_grad(create_graph=False):
        (gw,) = tg.autograd.grad(F.cross_entropy(model(xd), yd), w, create_graph=create_graph)
        return gw
    v = tg.tensor(np.random.default_rng(0).standard_normal(w.shape))
    gw = loss_grad(create_graph=True)
    (hv,) = tg.autograd.grad((gw * v).sum(), w)              # H v = d <grad L, v> / dw
    eps = 1e-5
    with tg.no_grad():
        w.add_(eps * v)
    plus = loss_grad()
    with tg.no_grad():
        w.sub_(2 * eps * v)
    minus = loss_grad()
    with tg.no_grad():
        w.add_(eps * v)
    finite = (plus - minus) / (2 * eps)
    print(f"|H v| = {norm(hv):.6g}; max |H v - (grad(w + eps v) - grad(w - eps v)) / 2 eps| = "
          f"{float(np.abs(tg.backend.to_numpy((hv - finite).array)).max()):.2e}")


if __name__ == "__main__":
    main()
