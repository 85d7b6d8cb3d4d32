"""The action model against the facts of the official one: checkpoint layout, outputs, padding, errors."""

from __future__ import annotations

import pickle
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch

from action_support import (CLIP_SIZE, CONTENT_WIDTH, PREDICTION_SEED, regression_inputs, regression_timestamps,
                            seeded_clip_inputs)
from alphaction_demo.action import ActionModel, load_config
from alphaction_demo.action.backbone import is_folded
from alphaction_demo.action.checkpoint import save_checkpoint
from alphaction_demo.action.model import content_size
from alphaction_demo.action.network import ActionNetwork
from alphaction_demo.errors import UsageError, WeightsError

FIXTURES = Path(__file__).parent / "fixtures"
OFFICIAL = np.load(FIXTURES / "action_regression_official.npz")

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@lru_cache(maxsize=None)
def state_dict(name: str, common: bool):
    return ActionModel.random_state_dict(load_config(name, common_cate=common), seed=0)


@lru_cache(maxsize=None)
def model(name: str, common: bool = False, fold_bn: bool = True) -> ActionModel:
    return ActionModel.from_state_dict(state_dict(name, common), load_config(name, common_cate=common), fold_bn=fold_bn)


# The official fixture was made by the demo at its default 4 updates a second: memory spacing
# MEMORY_RATE 1 x 4, which a run's schedule passes to `predict`.
DEMO_SPACING = 4


def run_regression(m: ActionModel, seed: int = 1):
    rate = m.memory_rate * DEMO_SPACING
    inputs = regression_inputs(m.cfg.INPUT.TAU, m.cfg.INPUT.ALPHA, rate, seed)
    memory = {t: m.extract_features(slow, fast, pb, ob) for t, (slow, fast, pb, ob) in inputs.items()}
    results = {}
    for t, feats in memory.items():
        if feats.num_persons:
            torch.manual_seed(PREDICTION_SEED)
            results[t] = m.predict(feats, memory, t, memory_rate=rate)
    return results, memory


@pytest.mark.parametrize("name, common, fixture", [
    ("resnet50_4x16f_denseserial", False, "keys_resnet50_4x16f_denseserial.tsv"),
    ("resnet101_8x8f_denseserial", True, "keys_resnet101_8x8f_denseserial_common.tsv"),
])
def test_state_dict_keys_and_shapes_are_the_official_ones(name, common, fixture):
    expected = [line.split("\t") for line in (FIXTURES / fixture).read_text().splitlines()]
    network = ActionNetwork(load_config(name, common_cate=common))
    actual = [[k, str(list(v.shape))] for k, v in network.state_dict().items()]
    assert actual == expected


@pytest.mark.parametrize("name, common", [
    ("resnet50_4x16f_denseserial", False),
    ("resnet101_8x8f_denseserial", True),
    ("resnet50_4x16f_parallel", False),
    ("resnet50_4x16f_serial", False),
    ("resnet50_4x16f_baseline", False),
])
def test_outputs_equal_the_official_implementation(name, common):
    """The fixture holds the official code's probabilities for the same weights and inputs,
    with memory from several neighbouring timestamps, 7 objects (> MAX_OBJECT) and an empty step."""
    results, _ = run_regression(model(name, common))
    key = f"{name}{'_common' if common else ''}"
    compared = 0
    for t, probs in results.items():
        expected = OFFICIAL[f"{key}/{t}"]
        assert probs.shape == expected.shape and probs.dtype == np.float32
        assert np.abs(probs - expected).max() <= 1e-4, (t, np.abs(probs - expected).max())
        compared += 1
    assert compared == 4


def test_probabilities_follow_the_official_post_processing():
    results, _ = run_regression(model("resnet101_8x8f_denseserial", True))
    for probs in results.values():
        np.testing.assert_allclose(probs[:, :6].sum(axis=1), 1.0, atol=1e-5)  # softmax over the 6 pose classes
        assert ((probs > 0) & (probs < 1)).all()
        assert not np.allclose(probs[:, 6:].sum(axis=1), 1.0)  # independent sigmoids for the rest


def test_checkpoint_round_trip_through_the_real_loader(tmp_path):
    cfg = load_config("resnet50_4x16f_denseserial")
    path = save_checkpoint(state_dict("resnet50_4x16f_denseserial", False), tmp_path / "r50.pth")
    assert set(torch.load(path, weights_only=True)) == {"model"}
    loaded = ActionModel.from_checkpoint(path, cfg)
    results, _ = run_regression(loaded)
    reference, _ = run_regression(model("resnet50_4x16f_denseserial"))
    for t in results:
        np.testing.assert_array_equal(results[t], reference[t])


@pytest.mark.parametrize("wrap", ["bare", "module_prefix"])
def test_bare_and_dataparallel_checkpoints_load(tmp_path, wrap):
    cfg = load_config("resnet50_4x16f_baseline")
    state = ActionModel.random_state_dict(cfg, seed=3)
    if wrap == "module_prefix":
        state = {f"module.{k}": v for k, v in state.items()}
    torch.save(state, tmp_path / "c.pth")
    ActionModel.from_checkpoint(tmp_path / "c.pth", cfg)


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_a_checkpoint_for_another_class_count_is_refused_with_the_mismatch(tmp_path):
    path = save_checkpoint(state_dict("resnet101_8x8f_denseserial", True), tmp_path / "demo15.pth")
    with pytest.raises(WeightsError) as exc:
        ActionModel.from_checkpoint(path, load_config("resnet101_8x8f_denseserial"))
    text = one_line(exc)
    assert "resnet101_8x8f_denseserial" in text
    assert "roi_heads.action.predictor.cls_score.weight (15, 1024) vs (80, 1024)" in text


def test_a_checkpoint_for_another_backbone_lists_the_missing_keys(tmp_path):
    path = save_checkpoint(state_dict("resnet50_4x16f_denseserial", False), tmp_path / "r50.pth")
    with pytest.raises(WeightsError) as exc:
        ActionModel.from_checkpoint(path, load_config("resnet101_8x8f_denseserial"))
    text = one_line(exc)
    assert "missing keys: backbone.slow.res_nl3.res_6" in text
    assert "(+" in text  # says how many more


@pytest.mark.parametrize("content", ["truncated", "empty", "text", "code", "not_weights"])
def test_unreadable_files_give_one_line(tmp_path, content):
    path = tmp_path / "bad.pth"
    if content == "truncated":
        good = save_checkpoint(state_dict("resnet50_4x16f_baseline", False), tmp_path / "good.pth")
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    elif content == "empty":
        path.write_bytes(b"")
    elif content == "text":
        path.write_text("<html>Google Drive: quota exceeded</html>")
    elif content == "code":
        class Evil:
            def __reduce__(self):
                return (Path.touch, (tmp_path / "pwned",))
        path.write_bytes(pickle.dumps({"model": Evil()}))
    else:
        torch.save({"model": {"step": 3}}, path)
    with pytest.raises(WeightsError) as exc:
        ActionModel.from_checkpoint(path, load_config("resnet50_4x16f_baseline"))
    assert str(path) in one_line(exc)
    assert not (tmp_path / "pwned").exists()  # weights-only loading never runs code from the file


def test_missing_file():
    with pytest.raises(WeightsError, match="weights not found"):
        ActionModel.from_checkpoint("no/such.pth", load_config("resnet50_4x16f_baseline"))


def test_folded_batch_norm_equals_the_unfolded_model():
    folded, unfolded = model("resnet50_4x16f_denseserial"), model("resnet50_4x16f_denseserial", fold_bn=False)
    assert is_folded(folded.network) and not is_folded(unfolded.network)
    a, mem_a = run_regression(folded)
    b, mem_b = run_regression(unfolded)
    for t in mem_a:
        if mem_a[t].num_persons:
            assert (mem_a[t].person_features - mem_b[t].person_features).abs().max() <= 1e-5
    for t in a:
        assert np.abs(a[t] - b[t]).max() <= 1e-5


def _features(m, n_persons, n_objects, seed=5):
    generator = torch.Generator().manual_seed(seed)
    slow, fast, pb, ob = seeded_clip_inputs(m.cfg.INPUT.TAU, m.cfg.INPUT.ALPHA, n_persons, generator, n_objects)
    return m.extract_features(slow, fast, pb, ob)


def test_empty_memory_entries_count_as_absent_ones():
    m = model("resnet50_4x16f_denseserial")
    current = _features(m, 3, 2)
    empty = _features(m, 0, 2, seed=6)
    rate = m.memory_rate
    alone = m.predict(current, {}, 0)
    with_empty = m.predict(current, {-rate: empty, rate: empty}, 0)
    np.testing.assert_allclose(alone, with_empty, atol=1e-6)
    assert empty.person_features.shape == (0, 2304, 1, 1, 1)


def test_predict_reads_only_the_memory_grid():
    m = model("resnet50_4x16f_denseserial")
    current, other = _features(m, 2, 1), _features(m, 3, 1, seed=7)
    rate, (before, after) = DEMO_SPACING, m.memory_length  # a run's spacing, given to predict
    base = m.predict(current, {}, 0, memory_rate=rate)
    assert not np.allclose(base, m.predict(current, {rate: other}, 0, memory_rate=rate), atol=1e-6)
    assert not np.allclose(base, m.predict(current, {-before * rate: other}, 0, memory_rate=rate), atol=1e-6)
    for off_grid in (1, rate + 1, (after + 1) * rate, -(before + 1) * rate, 0):
        np.testing.assert_allclose(base, m.predict(current, {off_grid: other}, 0, memory_rate=rate), atol=1e-6)


def test_no_objects_and_none_objects_agree():
    m = model("resnet50_4x16f_denseserial")
    feats = _features(m, 2, 0)
    assert feats.object_features.shape == (0, 2304, 1, 1, 1)
    generator = torch.Generator().manual_seed(5)
    slow, fast, pb, _ = seeded_clip_inputs(m.cfg.INPUT.TAU, m.cfg.INPUT.ALPHA, 2, generator, 0)
    np.testing.assert_allclose(m.predict(feats, {}, 0), m.predict(m.extract_features(slow, fast, pb, None), {}, 0),
                               atol=1e-6)


def test_more_objects_than_the_maximum_are_sampled():
    m = model("resnet50_4x16f_denseserial")
    feats = _features(m, 2, 12)
    outputs = []
    for seed in (1, 2, 1):
        torch.manual_seed(seed)
        outputs.append(m.predict(feats, {}, 0))
    np.testing.assert_array_equal(outputs[0], outputs[2])  # same RNG state, same sample
    assert not np.allclose(outputs[0], outputs[1])  # another sample of 5 out of 12


def test_a_seeded_crowd_is_the_official_draw_and_the_same_on_every_run():
    """More persons than memory and person slots and more objects than object slots: the draws the
    official code makes from the global generator, made from the seed instead, whatever the global
    generator's state (another thread may use it)."""
    m = model("resnet50_4x16f_denseserial")
    feats, other = _features(m, 31, 12), _features(m, 9, 12, seed=8)
    memory = {m.memory_rate: other, -m.memory_rate: other}
    torch.manual_seed(11)
    official = m.predict(feats, memory, 0)
    for global_seed in (0, 99):
        torch.manual_seed(global_seed)
        np.testing.assert_array_equal(m.predict(feats, memory, 0, seed=11), official)
    assert not np.allclose(m.predict(feats, memory, 0, seed=12), official)  # the draw matters


def test_more_persons_than_the_maximum_still_all_get_labels():
    m = model("resnet50_4x16f_denseserial")
    feats = _features(m, 31, 3)
    probs = m.predict(feats, {m.memory_rate: feats}, 0)
    assert probs.shape == (31, 80) and np.isfinite(probs).all()


def test_no_person_gives_an_empty_result():
    m = model("resnet50_4x16f_denseserial")
    assert m.predict(_features(m, 0, 3), {}, 0).shape == (0, 80)


def test_padding_is_found_from_the_clip():
    generator = torch.Generator().manual_seed(0)
    clip = torch.randn(1, 3, 4, *CLIP_SIZE, generator=generator)
    clip[..., CONTENT_WIDTH:] = 0
    clip[..., 60:, :] = 0
    assert content_size(clip) == (60, CONTENT_WIDTH)
    assert content_size(torch.zeros(1, 3, 4, 32, 48)) == (32, 48)


@pytest.mark.needs_bf16
def test_bf16_is_close_to_fp32():
    cfg = load_config("resnet50_4x16f_denseserial")
    fast_model = ActionModel.from_state_dict(state_dict("resnet50_4x16f_denseserial", False), cfg, precision="bf16")
    exact, _ = run_regression(model("resnet50_4x16f_denseserial"))
    approx, _ = run_regression(fast_model)
    for t in exact:
        assert approx[t].dtype == np.float32
        assert np.abs(exact[t] - approx[t]).max() < 0.1


def test_fp16_needs_cuda():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UsageError, match="fp16 needs a CUDA"):
        ActionModel.from_state_dict(state_dict("resnet50_4x16f_baseline", False), load_config("resnet50_4x16f_baseline"),
                                    precision="fp16")


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("precision, tolerance", [("fp32", 1e-4), ("fp16", 0.1)])
def test_cuda_matches_the_cpu(precision, tolerance):
    cfg = load_config("resnet50_4x16f_denseserial")
    gpu = ActionModel.from_state_dict(state_dict("resnet50_4x16f_denseserial", False), cfg, device="cuda",
                                      precision=precision)
    on_gpu, _ = run_regression(gpu)
    for t, probs in on_gpu.items():
        assert np.abs(probs - OFFICIAL[f"resnet50_4x16f_denseserial/{t}"]).max() <= tolerance


def test_regression_timestamps_are_on_the_memory_grid():
    rate = model("resnet50_4x16f_denseserial").memory_rate * DEMO_SPACING
    assert rate == 4  # MEMORY_RATE 1 x detect_rate 4
    assert all((t - 1000) % rate == 0 for t in regression_timestamps(rate))
