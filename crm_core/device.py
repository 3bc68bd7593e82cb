"""Pick where and in which precision the model runs, so callers can just say "auto"."""

from __future__ import annotations

import os

import torch

from crm_core.errors import CRMError

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")


def device_available(name: str) -> bool:
    """Whether this PyTorch build can run on the named device ("auto" and "cpu" always can), so a device list
    (the app's, the CLI's) offers only what will work."""
    if name.startswith("cuda"):
        return torch.cuda.is_available()
    if name == "mps":
        return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    return name in ("auto", "cpu")


def pick_device(name: str = "auto") -> torch.device:
    """auto: CUDA, then Apple MPS, then CPU."""
    if name not in DEVICES and not name.startswith("cuda:"):
        raise CRMError(f"unknown device {name!r}; use one of {', '.join(DEVICES)}.")
    if name == "auto":
        if device_available("cuda"):
            return torch.device("cuda")
        if device_available("mps"):
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not device_available(name):
        raise CRMError("device 'cuda' was asked for, but this PyTorch build sees no CUDA GPU; use --device cpu.")
    if name == "mps" and not device_available(name):
        raise CRMError("device 'mps' was asked for, but Apple Metal is not available here; use --device cpu.")
    return torch.device(name)


def cpu_has_bf16_matrix_units() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware (Intel AMX), where bf16 convolutions pay off.

    Measured on a 2-core Xeon with AMX: the encoder 1.65× faster in bf16, dev_eval IoU/mBA within 0.1 of fp32.
    Without AMX, bf16 is emulated or narrow and no faster, so those CPUs stay in fp32.
    """
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe and probe())
    except RuntimeError:  # a build without the CPU capability probe
        return False


def pick_precision(device: torch.device, name: str = "auto") -> torch.dtype | None:
    """Autocast dtype, or None for plain fp32. GPUs get bf16 where supported, else fp16; CPUs get bf16 where
    they have matrix units for it (``cpu_has_bf16_matrix_units``), else fp32."""
    if name not in PRECISIONS:
        raise CRMError(f"unknown precision {name!r}; use one of {', '.join(PRECISIONS)}.")
    if name == "auto" and device.type == "cpu":
        return torch.bfloat16 if cpu_has_bf16_matrix_units() else None
    if name == "fp32":
        return None
    if name == "bf16":
        return torch.bfloat16
    if name == "fp16":
        return torch.float16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def use_all_cores() -> None:
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
