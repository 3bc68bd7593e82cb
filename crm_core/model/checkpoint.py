"""One-file checkpoints: safetensors weights plus the config and provenance in its metadata (no pickle)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from crm_core.errors import WeightsError
from crm_core.io import write_failed
from crm_core.model.config import ModelConfig
from crm_core.model.network import CRM

FORMAT = "crm-studio/1"


def save_checkpoint(path: str | Path, model: CRM, meta: dict[str, Any] | None = None, half: bool = False) -> None:
    """Atomically write weights (fp16 when ``half``: halves the file, BN statistics included) and metadata."""
    path = Path(path)
    tensors = {}
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        value = value.detach().cpu()
        if half and value.is_floating_point():
            value = value.half()
        tensors[key] = value.contiguous()
    header = {"format": FORMAT, "config": model.config.to_json(), "meta": json.dumps(meta or {}, sort_keys=True)}
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=path.parent)
        os.close(fd)
        save_file(tensors, tmp, metadata=header)
        os.replace(tmp, path)
    except (OSError, RuntimeError, SafetensorError) as err:  # one sentence, not a traceback (a full disk, read-only)
        raise write_failed(path, err) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def read_header(path: Path) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as handle:
        return handle.metadata() or {}


def load_checkpoint(path: str | Path) -> tuple[CRM, dict[str, Any]]:
    """Build the model a checkpoint describes and fill it; every failure is one WeightsError sentence."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: checkpoint not found; pass an existing .safetensors file.")
    try:
        header = read_header(path)
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"{path}: not a readable CRM checkpoint ({err}); re-download or re-export it.") from None
    if header.get("format") != FORMAT:
        raise WeightsError(f"{path}: not a CRM Studio checkpoint (format {header.get('format')!r}, expected {FORMAT!r}).")
    try:
        config = ModelConfig.from_json(header["config"])
        meta = json.loads(header.get("meta", "{}"))
    except (KeyError, TypeError, ValueError) as err:
        raise WeightsError(f"{path}: checkpoint metadata is damaged ({err}).") from None
    model = CRM(config)
    _fill(model, tensors, path)
    return model, meta


def _fill(model: CRM, tensors: dict[str, torch.Tensor], path: Path) -> None:
    expected = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if tensors[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        detail = "; ".join(
            f"{name}: {', '.join(keys[:3])}{' …' if len(keys) > 3 else ''}"
            for name, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if keys
        )
        raise WeightsError(f"{path}: weights do not match the model its config describes ({detail}).")
    broken = sorted(k for k, v in tensors.items() if v.is_floating_point() and not bool(torch.isfinite(v).all()))
    if broken:
        raise WeightsError(f"{path}: {len(broken)} weight tensors hold NaN or infinite values (first: {broken[0]}), "
                           "as a training run that diverged leaves them; use an earlier checkpoint.")
    model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
