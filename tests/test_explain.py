"""``python -m tinygrad_mnist explain``: the page's numbers against the engine and PyTorch recomputed
here without the explain module, for every tutorial model; and the page itself in headless Chromium
with the network cut off (no console errors, no request leaves the file, clicking a node shows its
details, and the numbers shown are the engine's).
"""
import functools
import json
import os

import numpy as np
import pytest
from conftest import mnist_dir

import tinygrad_mnist as tg
import tinygrad_mnist.nn.functional as F
from tinygrad_mnist import cli, explain, training
from tinygrad_mnist.explain import browser
from tinygrad_mnist.models import build_model
from tinygrad_mnist.specs import MODEL_NAMES, get_spec

DATA = mnist_dir()
pytestmark = pytest.mark.skipif(DATA is None, reason="MNIST not found in data/mnist or ../shared/datasets/mnist")


@functools.lru_cache(maxsize=1)
def mnist():
    return training.load_mnist(DATA)[:2]


def close(a, b, rel=1e-5, abs_=1e-9):
    return a == pytest.approx(b, rel=rel, abs=abs_)


def host(t):
    return np.array(t.detach().numpy())


def bfs(root):
    order, seen, queue = [], set(), [root]
    while queue:
        node = queue.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        queue.extend(c for c, _ in node.next_functions if c is not None)
    return order


def recompute(name, indices, seed=0):
    """The step's numbers straight from the engine (module hooks for forward values), and PyTorch's."""
    import torch

    from reference.models import build_model as build_reference
    spec = get_spec(name)
    x_train, y_train = mnist()
    x_np = training.preprocess(x_train[indices], spec)
    model = build_model(name, seed=seed)
    tmodel = build_reference(name)
    tmodel.load_state_dict({k: torch.from_numpy(host(v).copy()) for k, v in model.state_dict().items()})
    module_outputs = []
    for key, module in model.named_modules():
        if key:
            module.register_forward_hook(lambda m, args, out, key=key: module_outputs.append((key, out)))
    x = tg.tensor(x_np, requires_grad=True)
    y = tg.tensor(y_train[indices])
    loss = F.cross_entropy(model(x), y)
    order = bfs(loss.grad_fn)
    outputs = {}
    for key, out in module_outputs:  # module outputs -> their node's position in the graph
        if out.grad_fn is not None and out.grad_fn in order:
            outputs.setdefault(order.index(out.grad_fn), (key, host(out)))
    before = {k: host(p) for k, p in model.named_parameters()}
    with tg.autograd.trace() as t:
        loss.backward()
    grads = {k: host(p.grad) for k, p in model.named_parameters()}
    getattr(tg.optim, spec.optimizer)(model.parameters(), **dict(spec.optimizer_kwargs)).step()
    after = {k: host(p) for k, p in model.named_parameters()}
    tx = torch.from_numpy(x_np.copy()).requires_grad_(True)
    tloss = torch.nn.functional.cross_entropy(tmodel(tx), torch.from_numpy(y_train[indices].astype(np.int64)))
    tloss.backward()
    return {"loss": loss.item(), "names": [n.name() for n in order], "outputs": outputs, "before": before,
            "grads": grads, "after": after, "input_grad": host(x.grad), "torch_loss": tloss.item(),
            "torch_grads": {k: p.grad.numpy().copy() for k, p in tmodel.named_parameters()},
            "trace": [(s.op, s.grad_output_norm, s.grad_output) for s in t.steps]}


def norm(a):
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64).ravel()))


def dequantize(pic):
    import base64
    q = np.frombuffer(base64.b64decode(pic["data"]), dtype=np.uint8).astype(np.float64)
    return pic["lo"] + q / 255 * (pic["hi"] - pic["lo"])


def check_page_data(data, rec):
    """Every number the page's data holds that the engine also computed here, compared."""
    assert close(data["loss"], rec["loss"], rel=1e-6)
    assert close(data["torch_loss"], rec["torch_loss"], rel=1e-6)
    nodes = data["nodes"]
    graph = [n for n in nodes if n["kind"] != "none"]
    assert [n["name"] for n in graph] == rec["names"]          # the same graph, in the same order
    assert nodes[0]["name"].startswith("CrossEntropy") and nodes[0]["row"] == 0
    assert sorted(n["param"] for n in graph if n["kind"] == "param") == sorted(rec["grads"])
    (x_node,) = [n for n in graph if n["kind"] == "input"]
    assert close(x_node["grad"]["norm"], norm(rec["input_grad"]))
    # backward's order and the norm of every gradient each node received
    steps = data["trace"]
    assert [(s["op"], s["grad_output"]) for s in steps] == [(op, list(shape)) for op, _, shape in rec["trace"]]
    for s, (_, n_rec, _) in zip(steps, rec["trace"]):
        assert close(s["grad_output_norm"], n_rec)
        assert close(nodes[s["node"]]["grad"]["norm"], n_rec)
    assert len(steps) == sum(n["kind"] == "op" for n in nodes)
    # forward values: every op node has one; those that are a module's output equal it
    assert all(n["value"] is not None for n in graph)
    assert all(n["doc"] and n["code"] for n in graph), [n["name"] for n in graph if not (n["doc"] and n["code"])]
    assert rec["outputs"], "no module output found in the graph"
    for index, (key, out) in rec["outputs"].items():
        value = nodes[index]["value"]
        assert value["shape"] == list(out.shape), key
        assert close(value["norm"], norm(out)), key
        if "picture" in value:  # the picture is a sample of the same values, to within its rounding
            pic = value["picture"]
            sample = out.reshape(out.shape[0], 1, 28, 28) if out.ndim == 2 and out.shape[1] == 784 else out
            sample = sample[:pic["rows"], :pic["cols"]] if pic["rows"] * pic["cols"] > 1 else sample[:pic["h"]]
            step = (pic["hi"] - pic["lo"]) / 255
            assert np.abs(dequantize(pic) - sample.astype(np.float64).ravel()).max() <= step / 2 + 1e-6, key
    # each edge carries a gradient of its input's shape
    for e in data["edges"]:
        if not e.get("none"):
            assert e["grad"]["shape"] == nodes[e["src"]]["in_shapes"][e["index"]]
    # parameters: gradient, PyTorch's, and the optimizer step
    assert [p["name"] for p in data["params"]] == list(rec["grads"])
    for p in data["params"]:
        k = p["name"]
        assert close(p["grad"]["norm"], norm(rec["grads"][k])), k
        assert p["grad"]["first"] == pytest.approx(rec["grads"][k].ravel()[:6].astype(np.float64).tolist(), rel=1e-6, abs=1e-12)
        assert close(p["torch_grad_norm"], norm(rec["torch_grads"][k])), k
        diff = np.abs(rec["grads"][k].astype(np.float64) - rec["torch_grads"][k]).max()
        assert close(p["vs_torch"]["max_abs"], diff, rel=1e-3, abs_=1e-10), k
        assert p["vs_torch"]["max_rel"] < 1e-4, k
        assert close(p["before"]["norm"], norm(rec["before"][k])), k
        assert close(p["after"]["norm"], norm(rec["after"][k])), k
        assert close(p["update"]["norm"], norm(rec["after"][k] - rec["before"][k]), rel=1e-4), k
        assert p["after_vs_torch"]["max_abs"] < 1e-5, k


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_page_holds_the_engines_numbers(name):
    data = explain.explain_step(name, data_dir=DATA, batch_size=4, fd=False, mnist=mnist())
    page = explain.render_html(data)
    assert len(page.encode()) < 3_000_000
    assert explain.read_data(page) == json.loads(json.dumps(data))
    # the batch is the first one a training run's shuffled DataLoader draws for this seed
    x_train, y_train = mnist()
    xb, yb = next(iter(training.TinygradEngine().loader(tg.tensor(x_train), tg.tensor(y_train), 4, True, 0)))
    assert data["labels"] == yb.tolist() and np.array_equal(x_train[data["indices"]], xb.numpy())
    check_page_data(data, recompute(name, data["indices"]))


def test_big_tensors_are_pictured_from_a_sample_and_summarised_in_full():
    from tinygrad_mnist.explain.step import summary
    rng = np.random.default_rng(0)
    rows = rng.standard_normal((8192, 10)).astype(np.float32)   # the 4-layer MLP's logits at its batch
    s = summary(rows)
    assert s["numel"] == 8192 * 10 and sum(s["hist"]["counts"]) == 8192 * 10
    assert close(s["norm"], norm(rows)) and s["picture"]["of"] == "rows 0-15 of 8192, all 10 columns"
    assert np.abs(dequantize(s["picture"]) - rows[:16].ravel()).max() <= (s["picture"]["hi"] - s["picture"]["lo"]) / 510 + 1e-7
    maps = summary(rng.standard_normal((64, 32, 28, 28)).astype(np.float32))   # the CNN's feature maps
    assert maps["picture"]["rows"] == 4 and maps["picture"]["cols"] == 8 and maps["numel"] == 64 * 32 * 784
    digits = summary(rng.random((8192, 784)).astype(np.float32))   # flat inputs are pictured as 28x28 images
    assert (digits["picture"]["h"], digits["picture"]["w"], digits["picture"]["signed"]) == (28, 28, False)
    assert "picture" not in summary(rng.standard_normal((8192, 500)))          # a histogram only


def test_explain_a_checkpoint(tmp_path):
    model = build_model("mlp", seed=1)
    path = tmp_path / "model.safetensors"
    tg.save(model.state_dict(), path, metadata={"model": "mlp"})
    data = explain.explain_step(checkpoint=path, data_dir=DATA, batch_size=4, fd=False, mnist=mnist())
    assert data["model"] == "mlp" and data["checkpoint"] == str(path)
    for p in data["params"]:  # the step starts from the checkpoint's weights, not seed 0's
        assert close(p["before"]["norm"], norm(host(model.state_dict()[p["name"]]))), p["name"]
    with pytest.raises(ValueError, match="holds a 'mlp' model"):
        explain.explain_step("lenet", checkpoint=path, data_dir=DATA, mnist=mnist())


# ------------------------------------------------------------------------------ in the browser


def _browser_or_skip():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    if browser.chromium_path() is None:
        pytest.skip("no Chromium here: .ci/run installs Debian's chromium (apt-get install chromium); "
                    "it could not on this machine")


@pytest.fixture(scope="module")
def chromium():
    _browser_or_skip()
    with browser.launch() as b:
        yield b


@pytest.fixture(scope="module")
def lenet_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("explain") / "lenet.html"
    rc = cli.main(["explain", "--model", "lenet", "--batch-size", "16", "--data-dir", str(DATA), "--out", str(path)])
    assert rc == 0
    return path


def test_lenet_page_offline_in_chromium(chromium, lenet_page):
    text = lenet_page.read_text(encoding="utf-8")
    assert len(text.encode()) < 3_000_000
    data = explain.read_data(text)
    assert data["command"].endswith(f"--batch-size 16 --out {lenet_page}")
    rec = recompute("lenet", data["indices"])
    check_page_data(data, rec)
    with browser.offline_page(lenet_page, browser=chromium) as op:
        page = op.page
        # the data the page drew from is the data in the file
        assert page.evaluate("() => JSON.parse(document.getElementById('explain-data').textContent)") == data
        assert page.locator("g.node").count() == len(data["nodes"])
        assert page.locator("g.edge").count() == len(data["edges"])
        shown = page.locator("header [data-field=loss]").get_attribute("data-value")
        assert close(float(shown), rec["loss"], rel=1e-6)

        # click the convolution nearest the input: its details replace the previous ones
        conv = [n for n in data["nodes"] if n["op"] == "Conv2d"][-1]
        page.click("g.node[data-node='0']")
        assert page.locator("#details [data-field=name]").inner_text() == "CrossEntropyBackward"
        page.click(f"g.node[data-node='{conv['id']}']")
        details = page.locator("#details")
        assert details.get_attribute("data-selected") == str(conv["id"])
        assert details.locator("[data-field=name]").inner_text() == "Conv2dBackward"
        assert "im2col" in details.locator("[data-field=rule]").inner_text()
        assert details.locator("[data-field=code-link]").get_attribute("href").endswith("/tinygrad_mnist/ops/conv.py")
        assert details.locator("canvas").count() >= 4          # value, incoming, outgoing to input and weight
        assert details.locator("svg.hist").count() >= 4
        key, out = rec["outputs"][conv["id"]]
        assert key == "conv1"
        assert close(float(details.locator("[data-field='value.norm']").get_attribute("data-value")), norm(out))
        (step,) = [s for s in data["trace"] if s["node"] == conv["id"]]
        assert close(float(details.locator("[data-field='grad.norm']").get_attribute("data-value")),
                     rec["trace"][step["index"]][1])
        # the canvas is really drawn: not a blank rectangle
        assert page.evaluate("""() => { const c = document.querySelector('#details canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Set(); for (let i = 0; i < d.length; i += 4) seen.add(d[i] * 65536 + d[i+1] * 256 + d[i+2]);
            return seen.size; }""") > 10

        # a parameter's node: its gradient as the engine computed it
        w = [n for n in data["nodes"] if n.get("param") == "conv1.weight"][0]
        page.click(f"g.node[data-node='{w['id']}']")
        assert details.locator("[data-field=name]").inner_text() == "AccumulateGrad: conv1.weight"
        assert close(float(details.locator("[data-field='grad.norm']").get_attribute("data-value")),
                     norm(rec["grads"]["conv1.weight"]))

        # the trace table: one row per backward step, in order; a row selects its node
        rows = page.locator("#trace-table tr[data-step]")
        assert rows.count() == len(rec["trace"])
        norms = [float(v) for v in page.locator("#trace-table [data-field=trace-norm]").evaluate_all(
            "els => els.map(e => e.getAttribute('data-value'))")]
        assert norms == pytest.approx([n for _, n, _ in rec["trace"]], rel=1e-5)
        rows.nth(1).click()
        assert details.get_attribute("data-selected") == str(data["trace"][1]["node"])
        assert page.locator("g.node.current").count() == 1
        assert page.locator("g.node.pending").count() > 0      # later nodes are not done yet at step 2
        assert "step 2 of" in page.locator("#step-label").inner_text()

        # against PyTorch, the finite differences, the optimizer step: the table cells hold the engine's values
        for p in data["params"]:
            k = p["name"]
            row = page.locator(f"#torch-table tr[data-param='{k}']")
            assert close(float(row.locator("[data-field=ours]").get_attribute("data-value")), norm(rec["grads"][k]))
            assert close(float(row.locator("[data-field=torch]").get_attribute("data-value")), norm(rec["torch_grads"][k]))
            row = page.locator(f"#optim-table tr[data-param='{k}']")
            assert close(float(row.locator("[data-field=after]").get_attribute("data-value")), norm(rec["after"][k]))
            assert page.locator(f"#fd-table tr[data-param='{k}']").count() == 3
            for c in p["fd"]:
                assert c["rel_err"] < 1e-5, (k, c)
                assert close(c["ours32"], float(rec["grads"][k][tuple(c["index"])]), rel=1e-6)
        assert page.locator(f"#optim-cards canvas").count() >= 3 * 4   # before, update, after of the 4 weights
        assert page.locator("#profile-table tr").count() == len(data["profile"]) + 1
        assert not op.errors, op.errors
    assert op.requests and set(op.requests) == {lenet_page.resolve().as_uri()}, op.requests
    assert not op.blocked, op.blocked


def test_offline_page_blocks_and_records_a_request(chromium, tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<!doctype html><body><img src='http://192.0.2.1/x.png'>"
                    "<script>document.body.setAttribute('data-ready', '1')</script></body>")
    with browser.offline_page(page, browser=chromium) as op:
        pass
    assert "http://192.0.2.1/x.png" in op.blocked
