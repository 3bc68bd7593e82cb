"""The network matches the paper's shapes and counts, and the CAM arithmetic is the one the paper describes."""

from __future__ import annotations

import pytest
import torch

from crm_core.errors import WeightsError
from crm_core.model import CRM, LIGHT, PAPER, pixel_centres, weight_count
from crm_core.model.checkpoint import load_checkpoint, save_checkpoint
from crm_core.model.fold import fold_batchnorm
from crm_core.model.network import neighbour_lookup


def test_paper_config_has_the_papers_9_27m_weights():
    assert weight_count(CRM(PAPER)) == 9_268_833


def test_light_config_is_much_smaller():
    assert weight_count(CRM(LIGHT)) < weight_count(CRM(PAPER)) / 5


@pytest.mark.parametrize("config", [PAPER, LIGHT], ids=["paper", "light"])
def test_latent_is_stride_two_and_logits_cover_every_query(config):
    model = CRM(config).eval()
    x = torch.randn(2, 4, 64, 80)
    with torch.no_grad():
        projected = model.encode(x)
        assert projected.shape == (2, config.hidden, 32, 40)
        coords = torch.rand(2, 100, 2) * 2 - 1
        assert model.decode(projected, coords, (64, 80)).shape == (2, 100)


def test_pixel_centres_follow_the_reference_grid():
    assert torch.allclose(pixel_centres(4), torch.tensor([-0.75, -0.25, 0.25, 0.75]))


def test_one_hand_computed_query():
    # Latent grid 2×2, query at (y, x) = (0.1, -0.3): the 4 supporting cells are all 4 cells of the grid.
    coords = torch.tensor([[[0.1, -0.3]]])
    idx, rel, weights = neighbour_lookup(coords, (2, 2), (0, 0), (2, 2))
    assert idx[0, 0].tolist() == [0, 1, 2, 3]
    # cell centres are at ±0.5; rel = (C_t - C_f) * size
    expected_rel = torch.tensor([[1.2, 0.4], [1.2, -1.6], [-0.8, 0.4], [-0.8, -1.6]])
    assert torch.allclose(rel[0, 0], expected_rel, atol=1e-5)
    # each neighbour is weighted by the area of its diagonal opposite (bilinear-like)
    areas = (expected_rel[:, 0] * expected_rel[:, 1]).abs()
    expected_w = areas.flip(0) / areas.sum()
    assert torch.allclose(weights[0, 0], expected_w, atol=1e-5)
    # nearer cells weigh more: the query is closest to cell 2 (row 1, col 0)
    assert int(weights[0, 0].argmax()) == 2


def test_aggregation_weights_sum_to_one_everywhere():
    coords = torch.rand(1, 5000, 2) * 2 - 1
    _, _, weights = neighbour_lookup(coords, (7, 11), (0, 0), (7, 11))
    assert torch.allclose(weights.sum(-1), torch.ones(1, 5000), atol=1e-5)
    assert (weights >= 0).all()


def test_tile_offset_addresses_the_same_cells_as_the_whole_grid():
    model = CRM(LIGHT).eval()
    projected = torch.randn(1, LIGHT.hidden, 20, 30)
    coords = torch.rand(1, 200, 2) * 0.4  # queries in the lower-right part
    with torch.no_grad():
        whole = model.decode(projected, coords, (40, 60))
        region = projected[:, :, 8:, 12:]
        part = model.decode(region, coords, (40, 60), feat_hw=(20, 30), offset=(8, 12))
    assert torch.allclose(whole, part, atol=1e-5)


def test_folding_batchnorm_keeps_the_function():
    model = CRM(LIGHT)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    model.eval()
    x = torch.randn(1, 4, 48, 48)
    with torch.no_grad():
        before = model.encode(x)
        after = fold_batchnorm(model).encode(x)
    assert torch.allclose(before, after, atol=1e-4)


def test_checkpoint_round_trip_keeps_config_weights_and_metadata(tmp_path):
    model = CRM(LIGHT)
    path = tmp_path / "m.safetensors"
    save_checkpoint(path, model, {"steps": 12})
    loaded, meta = load_checkpoint(path)
    assert meta == {"steps": 12}
    assert loaded.config == LIGHT
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), k


def test_missing_corrupt_and_mismatched_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_checkpoint(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"this is not a checkpoint")
    with pytest.raises(WeightsError, match="bad.safetensors"):
        load_checkpoint(bad)
    good = tmp_path / "good.safetensors"
    save_checkpoint(good, CRM(LIGHT))
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(good))
    tensors.pop("decoder.out.bias")
    from crm_core.model.checkpoint import read_header

    save_file(tensors, str(tmp_path / "cut.safetensors"), metadata=read_header(good))
    with pytest.raises(WeightsError, match="missing: decoder.out.bias"):
        load_checkpoint(tmp_path / "cut.safetensors")
