"""The clip the model sees: official resize, normalisation, slow/fast split, padding, boxes."""

import numpy as np
import pytest
import torch

from alphaction_demo.action import load_config
from alphaction_demo.pipeline.clip import ClipGeometry, ClipSettings, build_clips, resized_size


@pytest.mark.parametrize("size, expected", [
    ((720, 1280), (256, 455)),      # landscape: short side 256, long side 455 <= 464
    ((480, 640), (256, 341)),
    ((1280, 720), (455, 256)),      # portrait
    ((120, 160), (256, 341)),       # upscaled
    ((2160, 3840), (256, 455)),
    ((256, 340), (256, 340)),       # already the target: kept (the official code swaps h and w here)
    ((256, 256), (256, 256)),
    ((400, 1200), (155, 465)),      # very wide: the long side limits (rounding as the official code)
])
def test_resized_size(size, expected):
    assert resized_size(*size, 256, 464) == expected


def test_settings_follow_the_config():
    s = ClipSettings.from_config(load_config("resnet101_8x8f_denseserial"))
    assert (s.frame_num, s.sample_rate, s.tau, s.alpha, s.span, s.centre) == (64, 1, 8, 4, 64, 32)
    s50 = ClipSettings.from_config(load_config("resnet50_4x16f_denseserial"))
    assert (s50.frame_num, s50.tau, s50.alpha, s50.span) == (64, 16, 8, 64)
    assert list(s.sample_positions()) == list(range(64))


def test_build_clips_normalises_splits_and_pads():
    settings = ClipSettings()  # R50: 64 frames, tau 16, alpha 8
    frames = [np.full((100, 130, 3), (10, 20, i), np.uint8) for i in range(64)]  # BGR; red channel = frame number
    slow, fast = build_clips(frames, settings)
    assert slow.shape == (1, 3, 4, 112, 144) and fast.shape == (1, 3, 32, 112, 144)
    # slow takes frames 7, 23, 39, 55 and fast every second frame from 0; channel 0 is red (RGB)
    red_slow = slow[0, 0, :, 0, 0] * settings.std[0] + settings.mean[0]
    assert torch.allclose(red_slow, torch.tensor([7.0, 23.0, 39.0, 55.0]), atol=1e-3)
    red_fast = fast[0, 0, :3, 0, 0] * settings.std[0] + settings.mean[0]
    assert torch.allclose(red_fast, torch.tensor([0.0, 2.0, 4.0]), atol=1e-3)
    blue = slow[0, 2, 0, 0, 0] * settings.std[2] + settings.mean[2]
    assert abs(float(blue) - 10.0) < 1e-3
    assert torch.count_nonzero(slow[..., 100:, :]) == 0 and torch.count_nonzero(slow[..., 130:]) == 0


def test_boxes_are_clamped_scaled_and_empty_ones_dropped():
    g = ClipGeometry.for_frame(480, 640, ClipSettings())
    assert g.clip_size == (256, 341)
    boxes, keep = g.boxes_to_clip(np.array([[-10, 0, 320, 480], [700, 10, 800, 50], [100, 100, 200, 300]], np.float32))
    assert list(keep) == [0, 2]  # the second lies outside the frame
    np.testing.assert_allclose(boxes[0], [0, 0, 320 * 341 / 640, 479 * 256 / 480], rtol=1e-5)


def test_resize_keeps_frames_of_the_clip_size():
    g = ClipGeometry.for_frame(720, 1280, ClipSettings())
    assert g.resize(np.zeros((720, 1280, 3), np.uint8)).shape == (256, 455, 3)
