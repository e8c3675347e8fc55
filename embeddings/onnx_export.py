"""The default model as ONNX files, written once into its cache folder, where
sentence-transformers' ONNX backend looks for them (`onnx/model.onnx`, and the int8 file
`onnx/model_qint8_avx512_vnni.onnx` or its kin, named as `export_dynamic_quantized_onnx_model`
names them), each with its weights beside it (`model.onnx_data`) so that onnxruntime maps them.

Why not sentence-transformers' own export: its ONNX backend goes through optimum-onnx, whose
only releases (0.1.0 and older) require transformers < 4.58, and sentence-transformers 6 requires
transformers ≥ 5; a fork on PyPI that allows transformers 5 fails to trace BertModel's masks (README,
The default model). So the export is the two library calls that backend makes underneath:
`torch.onnx.export` of the transformers model, then onnxruntime's `quantize_dynamic` with the
settings of optimum's `AutoQuantizationConfig.<cpu>(is_static=False)` for this CPU's flags.

Export needs torch and transformers (once, ~20 s); running the files needs neither (onnx_encoder.py).
Every file is written beside its final name and renamed, so an interrupted export leaves
nothing half-written, and an export that is there is never redone.
"""

from __future__ import annotations

import os
import platform
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import ModelError

ONNX_FOLDER = "onnx"
FP32_FILE = "model.onnx"
PIECES_FILE = "sentencepiece.model"  # tokenizer.json's Unigram pieces and scores, for sentencepiece
FRAME_FILE = "tokenizer-frame.json"  # tokenizer.json without its vocabulary: normaliser, pre-tokeniser
_OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OUTPUT = "last_hidden_state"


def quantization_target(flags: set[str] | None = None, machine: str | None = None) -> str:
    """The quantisation config for this CPU, as sentence-transformers names them: avx512_vnni
    (8-bit dot products in one instruction), avx512, avx2, or arm64."""
    flags = _cpu_flags() if flags is None else flags
    machine = (machine or platform.machine()).lower()
    if machine in ("arm64", "aarch64"):
        return "arm64"
    if "avx512_vnni" in flags or "avx512vnni" in flags:
        return "avx512_vnni"
    if "avx512f" in flags:
        return "avx512"
    return "avx2"


def int8_file(target: str) -> str:
    """The int8 file's name for a quantisation target (sentence-transformers' names: avx2 alone
    quantises weights unsigned)."""
    return f"model_{'quint8' if target == 'avx2' else 'qint8'}_{target}.onnx"


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.partition(":")[2].split())
    return set()


def onnx_file(folder: Path, int8: bool) -> Path:
    """The ONNX file of the model in `folder` (fp32 or int8 for this CPU), exporting it first
    if it is not there yet."""
    fp32 = folder / ONNX_FOLDER / FP32_FILE
    if not _complete(fp32):
        _write_model(fp32, lambda work: _export_fp32(folder, work))
    if not int8:
        return fp32
    quantized = folder / ONNX_FOLDER / int8_file(quantization_target())
    if not _complete(quantized):
        _write_model(quantized, lambda work: _quantize(fp32, work, quantization_target()))
    return quantized


def weights_file(model: Path) -> Path:
    """Where an ONNX file written here keeps its weights (the name sentence-transformers and
    optimum look for beside `model.onnx`)."""
    return model.with_name(model.name + "_data")


def _complete(model: Path) -> bool:
    return model.is_file() and weights_file(model).is_file()


def _write_model(target: Path, write: Callable[[Path], object]) -> None:
    """Write an ONNX model with `write`, then save it as `target` with its weights in
    `weights_file(target)`: onnxruntime memory-maps weights kept beside the graph instead of
    copying them (fp32: 150 MB resident instead of 520, and the 384 MB embedding table is only
    read where a question's tokens are). Both are written in a temporary folder and renamed,
    the graph last: a graph is never there without its weights."""
    import shutil

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    weights = weights_file(target)
    try:
        write(work / "whole.onnx")
        _split_weights(work / "whole.onnx", work / target.name, weights.name)
        for done in (work / weights.name, work / target.name):
            done.chmod(0o644)  # as the rest of the model folder (mkdtemp makes its folder private)
        os.replace(work / weights.name, weights)
        os.replace(work / target.name, target)
    except Exception as exc:
        raise ModelError(
            f"cannot export {target} ({type(exc).__name__}: {exc}); delete {target.parent} and retry, "
            "or set SANAD_BACKEND=torch"
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _split_weights(whole: Path, graph: Path, weights: str) -> None:
    import onnx

    model = onnx.load(str(whole))
    onnx.save_model(model, str(graph), save_as_external_data=True, all_tensors_to_one_file=True, location=weights)


def export_all(folder: Path) -> None:
    """Write both ONNX files and the tokenizer's parts of the model in `folder` (a freshly
    rebuilt default model)."""
    onnx_file(folder, int8=True)
    tokenizer_files(folder)


def tokenizer_files(folder: Path) -> tuple[Path, Path]:
    """The folder's tokenizer.json split in two, written once: its vocabulary as a sentencepiece
    Unigram model (same pieces, scores and ids), and the rest (normaliser, pre-tokeniser,
    special tokens) as a tokenizer.json with an empty vocabulary.

    Why: `tokenizers` holds this 250,000-piece Unigram vocabulary in ~290 MB (its trie), and
    sentencepiece in ~45 MB; the idle bot must stay under 500 MB. Split on the pre-tokeniser's
    words, both run the same Viterbi over the same pieces (a test compares the ids)."""
    pieces, frame = folder / ONNX_FOLDER / PIECES_FILE, folder / ONNX_FOLDER / FRAME_FILE
    if not (pieces.is_file() and frame.is_file()):
        import json

        spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        model = spec["model"]
        if model.get("type") != "Unigram" or model.get("byte_fallback"):
            raise ModelError(f"{folder / 'tokenizer.json'} is not a Unigram tokenizer; set SANAD_BACKEND=torch")
        _write_atomically(pieces, lambda work: work.write_bytes(_sentencepiece_model(model, spec["added_tokens"])))
        spec["model"] = {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]], "byte_fallback": False}
        frame_text = json.dumps(spec, ensure_ascii=False)
        _write_atomically(frame, lambda work: work.write_text(frame_text, encoding="utf-8"))
    return pieces, frame


def _sentencepiece_model(model: dict[str, Any], added: list[dict[str, Any]]) -> bytes:
    from sentencepiece import sentencepiece_model_pb2

    pb: Any = sentencepiece_model_pb2  # generated protobuf classes, untyped
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(model["vocab"])
    proto.trainer_spec.unk_id = int(model["unk_id"])
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    # The words come normalised and with their ▁ from the frame's pre-tokeniser: nothing more here.
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = False
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = False
    special = {int(token["id"]) for token in added if token.get("special")}
    kinds = pb.ModelProto.SentencePiece
    for number, (text, score) in enumerate(model["vocab"]):
        piece = proto.pieces.add()
        piece.piece, piece.score = text, float(score)
        if number == proto.trainer_spec.unk_id:
            piece.type = kinds.UNKNOWN
        elif number in special:  # <s>, </s>, <pad>: added by the encoder, never read from text
            piece.type = kinds.CONTROL
    return bytes(proto.SerializeToString())


def _write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".onnx", dir=target.parent)
    os.close(handle)
    work = Path(name)
    try:
        write(work)
        work.chmod(0o644)  # as the rest of the model folder (mkstemp makes it private)
        os.replace(work, target)
    except Exception as exc:
        work.unlink(missing_ok=True)
        raise ModelError(
            f"cannot export {target} ({type(exc).__name__}: {exc}); delete {target.parent} and retry, "
            "or set SANAD_BACKEND=torch"
        ) from exc
    except BaseException:
        work.unlink(missing_ok=True)
        raise


def _export_fp32(folder: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    # eager attention: the exporter traces its plain matrix products (sdpa's mask helpers of
    # transformers 5 do not trace).
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager", local_files_only=True).eval()

    class _Hidden(torch.nn.Module):
        """The transformer's last hidden states, from the three inputs by name."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            hidden: torch.Tensor = out.last_hidden_state
            return hidden

    sample = torch.tensor([[0, 581, 7986, 2]])
    axes = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, _OUTPUT)}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python branches it freezes; tests check the graph
        torch.onnx.export(
            _Hidden(),
            (sample, torch.ones_like(sample), torch.zeros_like(sample)),
            str(out),
            input_names=list(_INPUTS),
            output_names=[_OUTPUT],
            dynamic_axes=axes,
            opset_version=_OPSET,
            dynamo=False,
        )


def _quantize(fp32: Path, out: Path, target: str) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.registry import IntegerOpsRegistry

    # optimum's AutoQuantizationConfig.<target>(is_static=False): QOperator/IntegerOps, unsigned
    # asymmetric activations, symmetric per-channel weights (unsigned for avx2), full range.
    quantize_dynamic(
        fp32,
        out,
        op_types_to_quantize=list(IntegerOpsRegistry),
        per_channel=True,
        reduce_range=False,
        weight_type=QuantType.QUInt8 if target == "avx2" else QuantType.QInt8,
        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
    )
