import cv2
import numpy as np
import pytest

from crm_core.matting import clear_veil, matte, solve_alpha, solve_cap, solve_size

FUR, BACKDROP = (230, 200, 150), (40, 70, 190)
H, W = 360, 480  # the unknown band is 1 % of width + height: 8 px wide here
CENTRE, RADIUS, STRAND = (240, 180), 90, 5


def _disc(radius: int) -> np.ndarray:
    mask = np.zeros((H, W), np.float32)
    cv2.circle(mask, CENTRE, radius, 1.0, -1)
    return mask


def _furry() -> tuple[np.ndarray, np.ndarray]:
    """A disc with 2 px strands sticking out STRAND px: the photo and its true (binary) foreground."""
    truth = _disc(RADIUS)
    for angle in np.linspace(0, 2 * np.pi, 60, endpoint=False):
        inner = (CENTRE[0] + RADIUS * np.cos(angle), CENTRE[1] + RADIUS * np.sin(angle))
        outer = (CENTRE[0] + (RADIUS + STRAND) * np.cos(angle), CENTRE[1] + (RADIUS + STRAND) * np.sin(angle))
        cv2.line(truth, tuple(round(v) for v in inner), tuple(round(v) for v in outer), 1.0, 2)
    photo = (truth[..., None] * FUR + (1 - truth[..., None]) * BACKDROP).astype(np.uint8)
    return photo, truth


def test_strands_the_model_drew_as_one_smooth_edge_come_back_from_the_photo():
    photo, truth = _furry()
    smooth = cv2.GaussianBlur(_disc(RADIUS + 2), (0, 0), 1)  # one confident outline through the strands
    out = matte(photo, smooth, _disc(RADIUS + 2))
    strands = (truth > 0.5) & (_disc(RADIUS + 2) == 0)
    gaps = (truth < 0.5) & (_disc(RADIUS + 2) == 0) & (_disc(RADIUS + STRAND) > 0)
    assert (out[strands] > 0.5).mean() > 0.7 and not (smooth[strands] > 0.5).any()
    assert (out[gaps] < 0.5).mean() > 0.95


def test_where_the_photo_has_no_edge_the_matte_keeps_the_model_edge():
    photo = np.full((H, W, 3), 128, np.uint8)
    prob = _disc(RADIUS)
    out = matte(photo, prob, prob)
    moved = np.count_nonzero((out > 0.5) != (prob > 0.5))
    assert moved <= 2 * np.pi * RADIUS  # the edge moves by less than a pixel on average


def test_a_backdrop_region_the_model_added_is_not_locked_in():
    photo, truth = _furry()
    prob = _disc(RADIUS).copy()
    prob[40:80, 200:280] = 1.0  # the model confidently claims a patch of plain backdrop above the subject
    out = matte(photo, prob, _disc(RADIUS))
    assert (out[40:80, 200:280] < 0.5).all()
    assert (out[_disc(RADIUS) > 0.5] > 0.5).all()


def test_nothing_to_matte_gives_the_empty_mask_back():
    photo, _ = _furry()
    empty = np.zeros((H, W), np.float32)
    assert not matte(photo, empty, empty).any()


def test_with_no_prior_the_solve_is_the_closed_form_trimap_matte():
    photo, truth = _furry()
    sure = cv2.erode(truth.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    maybe = cv2.dilate(truth.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    alpha = solve_alpha(photo, sure, maybe)
    assert alpha.dtype == np.float32 and alpha.shape == (H, W)
    assert np.array_equal(alpha > 0.5, truth > 0.5)


def test_background_the_coarse_mask_covered_and_the_model_removed_comes_out_clear():
    """No veil: a coarse mask drawn well past the subject over textured background (trees above a canopy);
    the model removes that part with confidence. The matte may still find foreground there from the photo,
    but what it leaves under one half is the solve's spill, so it comes out exactly 0."""
    rng = np.random.default_rng(3)
    disc = _disc(RADIUS)
    trees = cv2.GaussianBlur(rng.uniform(0, 255, (H, W, 3)).astype(np.float32), (0, 0), 2)
    photo = np.where(disc[..., None] > 0, np.float32(FUR), trees * 0.5 + np.float32(BACKDROP) * 0.5).astype(np.uint8)
    coarse = _disc(RADIUS + 60)
    prob = np.clip(disc * 0.98 + 0.005, 0, 1).astype(np.float32)  # the model: subject, and confident background
    alpha = matte(photo, prob, coarse)
    dist = cv2.distanceTransform((disc == 0).astype(np.uint8), cv2.DIST_L2, 5)
    far = (dist > 20) & (coarse > 0)
    assert far.sum() > 10_000 and alpha[far].max() == 0.0
    assert alpha[disc > 0].mean() > 0.98


def test_a_faint_veil_apart_from_the_subject_is_cleared_while_a_faint_strand_on_it_stays():
    """No veil (issue 13): a coarse mask overshooting into textured background and a model with a soft tail
    there (0.2) leave the solve a grey patch apart from the subject; it must come out exactly 0, while a
    thin half-transparent strand growing out of the subject keeps its alpha."""
    rng = np.random.default_rng(5)
    disc = _disc(RADIUS)
    strand = np.zeros((H, W), np.float32)
    cv2.line(strand, (CENTRE[0] + RADIUS - 2, CENTRE[1]), (CENTRE[0] + RADIUS + 40, CENTRE[1]), 0.4, 1)
    truth = np.maximum(disc, strand)
    trees = cv2.GaussianBlur(rng.uniform(0, 255, (H, W, 3)).astype(np.float32), (0, 0), 2) * 0.5 + 60
    photo = (truth[..., None] * np.float32(FUR) + (1 - truth[..., None]) * trees).astype(np.uint8)
    prob = np.clip(cv2.GaussianBlur(disc, (0, 0), 1), 0.005, 0.995)
    prob[30:70, 150:330] = 0.2  # the model's soft tail over the trees above the subject
    prob[CENTRE[1] - 3:CENTRE[1] + 4, CENTRE[0] + RADIUS:CENTRE[0] + RADIUS + 42] = 0.3  # and its hint of the strand
    alpha = matte(photo, prob, _disc(RADIUS + 60))
    dist = cv2.distanceTransform((truth == 0).astype(np.uint8), cv2.DIST_L2, 5)
    assert alpha[dist > 20].max() == 0.0
    assert (alpha[strand > 0][10:35] > 0).all()
    assert alpha[disc > 0].mean() > 0.98


def test_a_detached_blob_with_a_pixel_or_two_of_foreground_goes_unless_the_person_drew_it():
    """A soft blob apart from the subject whose peak just passes one half (the matte's guess at the next
    subject's nostril) is no part of the cutout; the same blob inside the person's coarse mask is theirs."""
    alpha = np.zeros((H, W), np.float32)
    alpha[_disc(RADIUS) > 0] = 1.0
    blob = np.zeros((H, W), np.float32)
    cv2.circle(blob, (40, 40), 7, 1.0, -1)
    alpha += cv2.GaussianBlur(blob, (0, 0), 3) * 0.55 / cv2.GaussianBlur(blob, (0, 0), 3).max()
    assert 0 < (alpha[20:60, 20:60] >= 0.5).sum() < 0.001 * (alpha >= 0.5).sum()  # under a thousandth
    cleared = clear_veil(alpha)
    assert cleared[20:60, 20:60].max() == 0.0 and np.array_equal(cleared[100:], alpha[100:])
    drawn = np.zeros((H, W), bool)
    drawn[35:45, 35:45] = True  # the person's coarse mask covers it
    assert np.array_equal(clear_veil(alpha, coarse=drawn), alpha * (alpha > 0.05))


def test_a_matte_solved_below_the_photos_size_comes_back_along_the_photos_own_faint_edges(monkeypatch):
    """The guided upsampling of a matte solved at half size: a wavy outline of low contrast (12 grey levels), finer
    than the half-size solve keeps, is recovered from the full-size photo, which the snap's protocol eps (1e-3)
    smooths over."""
    import crm_core.matting as matting

    yy, xx = np.mgrid[:H, :W]
    angle, r = np.arctan2(yy - CENTRE[1], xx - CENTRE[0]), np.hypot(yy - CENTRE[1], xx - CENTRE[0])
    truth = (r < RADIUS + 4 * np.sin(24 * angle)).astype(np.float32)
    photo = truth[..., None] * np.float32((128, 120, 112)) + (1 - truth[..., None]) * np.float32((140, 134, 126))
    photo = np.clip(photo + np.random.default_rng(0).normal(0, 1.0, photo.shape), 0, 255).astype(np.uint8)
    disc = _disc(RADIUS)
    prob = np.clip(cv2.GaussianBlur(disc, (0, 0), 2), 0, 1)
    solve = matting.solve_size
    monkeypatch.setattr(matting, "solve_size", lambda h, w, max_side=W // 2: solve(h, w, max_side))
    shipped = np.abs(matte(photo, prob, disc) - truth).mean()
    monkeypatch.setattr(matting, "UPSAMPLE_EPS", matting.EPS)
    protocol = np.abs(matte(photo, prob, disc) - truth).mean()
    assert shipped < 0.8 * protocol


def test_the_system_built_tile_by_tile_is_the_whole_laplacian_restricted_to_the_unknown_pixels():
    """The matte builds the Laplacian's rows only in tiles around the unknown band (2.4-4 s → 0.3 s at 1,200 px);
    they must be exactly the rows of pymatting's whole-image Laplacian, across tile seams and at the frame's
    edges, or the matte would change with the tiling."""
    from pymatting import cf_laplacian

    from crm_core.matting import _unknown_system

    rng = np.random.default_rng(5)
    image = cv2.GaussianBlur(rng.uniform(0, 1, (150, 230, 3)), (0, 0), 1.5)
    known = np.ones((150, 230), bool)
    known[0:3, :] = known[:, 225:] = False  # unknowns on the frame's edges
    cv2.circle(known.view(np.uint8), (120, 75), 60, 0, 9)  # a ring across several tiles' seams
    alpha = (rng.uniform(0, 1, known.size) > 0.5) * known.ravel()
    system, rhs = _unknown_system(image, known, alpha.astype(np.float64))
    whole = cf_laplacian(image, is_known=known)
    unknown = ~known.ravel()
    assert unknown.sum() > 3000
    assert abs(system - whole[unknown][:, unknown]).max() < 1e-12
    assert np.allclose(rhs, -whole[unknown][:, ~unknown] @ alpha[~unknown], atol=1e-12)


def test_photos_of_a_pixel_or_a_few_are_matted_without_error():
    """OpenCV reads a 1×1 array as a scalar in some calls; the matte of a 1×1 or 2×3 photo is still a matte."""
    for h, w in ((1, 1), (2, 3)):
        photo = np.full((h, w, 3), 200, np.uint8)
        prob = np.ones((h, w), np.float32)
        out = matte(photo, prob, prob)
        assert out.shape == (h, w) and out.dtype == np.float32 and (out == 1.0).all()
        assert np.array_equal(clear_veil(prob * 0.3), np.zeros((h, w), np.float32))
        assert clear_veil(prob.astype(np.float64)).dtype == np.float32


def test_the_solve_cap_is_the_solve_s_size_at_every_scale_of_a_photo():
    """The time-left estimate reads the matte's solve size from it, also for a small photo refined enlarged ×3."""
    for h, w in ((2328, 3492), (490, 800), (4000, 6000), (100, 3000), (1300, 1300), (384, 512)):
        for scale in (1, 3):
            width, height = solve_size(h * scale, w * scale)
            assert min(h * w * scale * scale, solve_cap(h, w)) == pytest.approx(width * height, rel=0.01)


def test_a_band_of_most_of_the_frame_is_solved_smaller_and_still_finds_the_object(monkeypatch):
    """A model claiming most of the frame around a small coarse mask left all of it to the solve: at 1,200 px that
    was up to 960k unknowns and 52 s. Over the cap the solve runs smaller, with about the cap's unknowns, and the
    photo still decides: the disc is foreground, the flat backdrop the model claimed is not."""
    import crm_core.matting as matting

    solved = []
    solve = matting.solve_alpha
    monkeypatch.setattr(matting, "solve_alpha", lambda image, sure, maybe, *rest: solved.append(
        (image.shape[:2], int((maybe & ~sure).sum()))) or solve(image, sure, maybe, *rest))
    monkeypatch.setattr(matting, "MAX_UNKNOWNS", 40_000)  # the band here: 145k unknowns
    disc = _disc(RADIUS) > 0
    photo = np.where(disc[..., None], np.uint8(FUR), np.uint8(BACKDROP))
    claimed = np.zeros((H, W), np.float32)
    claimed[20:-20, 20:-20] = 1.0
    out = matte(photo, claimed, _disc(RADIUS // 3)) > 0.5
    (shape, unknowns), = solved
    assert shape[0] < H * 0.7 and 32_000 < unknowns <= 40_000
    assert (out & disc).sum() / (out | disc).sum() > 0.97
