"""Errors that reach a user: each carries one plain sentence that names the file and what to do."""

from __future__ import annotations


class CRMError(Exception):
    """Base of every error crm_core raises on purpose; front ends show ``str(err)`` and never a traceback."""


class InputError(CRMError):
    """A photo, mask or output path cannot be used as given."""


class DiskFull(InputError):
    """An output could not be written for want of space: every later write would fail the same way, so a run of
    many photos stops at the first (a tester's VOC copy on a full disk went on refining every photo to write
    nothing, and left label maps without their photos)."""


class WeightsError(CRMError):
    """A checkpoint is missing, corrupt or does not fit the model it claims to hold."""


class Cancelled(CRMError):
    """The caller asked a running refinement to stop; the document stays as it was."""
